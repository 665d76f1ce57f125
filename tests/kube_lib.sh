# tests/kube_lib.sh: the fake Kubernetes API server with Kueue's behaviour
# (tests/fake/fake_kube.py) for the Kueue tests, sourced after lib.sh.
#
#   . "$(dirname "$0")/kube_lib.sh"
#   kube_start [FAKE_KUBE ARGS...]    certificates, the server; sets PORT, CTL
#   kubeconfig FILE USER-YAML [CLUSTER-EXTRA]
#
# The server speaks TLS with a CA of the test's own (ca.pem), takes the
# token tok-good (tok-rbac gets 403) and a client certificate signed by the
# CA, and admits Jobs of LocalQueue "loopgate" under a 2-CPU quota.
FAKE_KUBE=$TEST_DIR/fake/fake_kube.py
export FAKE_KUBE

kube_start() {
	cd "$TRASH" || return 1
	# A CA, the server's certificate for 127.0.0.1, a tenant's client certificate
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lg-ca -keyout ca.key -out ca.pem &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr &&
		printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile ext -out server.pem &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=tenant -keyout client.key -out client.csr &&
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem
	} >openssl.log 2>&1 || { cat openssl.log; echo "not ok 1 - certificates"; exit 1; }

	# the log exists before the first request: the cases see it (lib.sh
	# links the script's top-level files into each case's directory)
	: >kube.log
	python3 "$FAKE_KUBE" --port-file kube.port --control-port-file ctl.port --log kube.log \
		--cert server.pem --key server.key --client-ca ca.pem --token tok-good \
		--forbidden-token tok-rbac --queue loopgate --quota-cpu 2 "$@" >kube.out 2>&1 &
	echo $! >"$TRASH/kube.fakepid"
	i=0
	while [ ! -s kube.port ] || [ ! -s ctl.port ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || { cat kube.out; echo "not ok 1 - the fake API server starts"; exit 1; }
		sleep 0.01
	done
	PORT=$(cat kube.port)
	CTL=http://127.0.0.1:$(cat ctl.port)
	export PORT CTL
}

# kubeconfig FILE USER-YAML [CLUSTER-EXTRA]: a kubeconfig with one context
kubeconfig() {
	cat >"$1" <<-YAML
	apiVersion: v1
	kind: Config
	current-context: tenant
	contexts:
	- name: tenant
	  context: {cluster: lab, user: me, namespace: loopgate-team-a}
	clusters:
	- name: lab
	  cluster:
	    server: https://127.0.0.1:$PORT/
	    ${3:-certificate-authority-data: $(base64 -w0 ca.pem)}
	users:
	- name: me
	  user: $2
	YAML
}

# ctl PATH [BODY]: the fake's control port (finish, preempt, log, ...)
ctl() { curl -sf -X POST "$CTL/$1" ${2:+--data "$2"} >/dev/null; }
