#!/bin/sh
# san: yes
# env_policy and env_inject applied to the delegate's starting environment.
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] || t_abort "surface tools not built (make tools)"
W="$TMPD/w"; mkdir -m 777 "$W"
cat > "$TMPD/env.yaml" <<'YAML'
version: 1
name: env-test
file_rules:
  - name: all
    paths: ["/**"]
    operations: ["*"]
    decision: allow
command_rules:
  - name: all
    commands: ["*"]
    decision: allow
env_policy:
  deny: ["SECRET_*", "AWS_*"]
env_inject: {INJECTED: "from-policy", KEEP: "overridden"}
YAML
out=$(cd "$W" && SECRET_TOKEN=s3 AWS_SECRET_ACCESS_KEY=k KEEP=mine PLAIN=1 \
	"$T/surface_run" -p "$TMPD/env.yaml" -w "$W" -- /usr/bin/env 2>&1)
printf '%s\n' "$out" | grep -E 'SECRET|AWS|KEEP|PLAIN|INJECTED' | sed 's/^/# /'
check "denied variables are gone" sh -c "! printf '%s\n' \"\$1\" | grep -q '^SECRET_TOKEN=\|^AWS_SECRET'" _ "$out"
check "other variables pass" sh -c "printf '%s\n' \"\$1\" | grep -qx 'PLAIN=1'" _ "$out"
check "env_inject adds" sh -c "printf '%s\n' \"\$1\" | grep -qx 'INJECTED=from-policy'" _ "$out"
check "env_inject overrides the caller's value" sh -c "printf '%s\n' \"\$1\" | grep -qx 'KEEP=overridden'" _ "$out"
check "control: without a policy the variables pass" sh -c "cd '$W' && SECRET_TOKEN=s3 '$T/surface_run' -w '$W' -- /usr/bin/env | grep -qx SECRET_TOKEN=s3"
done_testing
