# CASE: include.path in .git/config pointing at an actor-written config with hooks and filters
adv_repo
out=$(adv_outside)
cat >agent.sh <<SH
#!/bin/sh
mkdir -p h
printf '#!/bin/sh\ntouch $out/include-ran\n' >h/pre-commit
chmod +x h/pre-commit
printf '[core]\n\thooksPath = %s/h\n[filter "x"]\n\tclean = touch $out/include-ran\n' "\$PWD" >inc.cfg
printf '* filter=x\n' >.gitattributes
git config include.path "\$PWD/inc.cfg"
sed -i 's/a - b/a + b/' calc.py
SH
adv_agent agent.sh $(adv_no_sandbox)
test "$CODE" -ne 3 || { cat run.err >&2; false; }
adv_assert_absent "$out/include-ran"
adv_event integrity 'b["kind"] == "git_control_change" and any(p["path"] == ".git/config" for p in b["paths"])'
! git -C repo config --get include.path
adv_audited
