# bench/env.sh: the predictable environment every bench script runs in,
# sourced after W (the bench's scratch directory) is set:
#   . "$BENCH_DIR/env.sh"
# No user or system git config, no keys, no proxies (curl and libcurl would
# honour them even for 127.0.0.1), a HOME of its own under $W.
unset OPENAI_API_KEY ANTHROPIC_API_KEY LOOPGATE_CONFIG http_proxy HTTP_PROXY \
	https_proxy HTTPS_PROXY all_proxy ALL_PROXY GIT_DIR GIT_WORK_TREE 2>/dev/null || true
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
mkdir -p "$HOME"
