# Sourced by the experiment scripts: a temp dir (removed on exit, with every background job), an
# nginx origin on core 0 at 127.0.0.1:19101 answering "hello world\n", and `$work/gh.json`, a
# gatehouse config proxying 127.0.0.1:19102 to it. PORT_BASE (default 19100) moves the ports
# (origin PORT_BASE+1, gatehouse PORT_BASE+2), so two experiments can run at once.
port_base=${PORT_BASE:-19100}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/origin.conf" <<CONF
worker_processes 1; user root; error_log /dev/null; pid $work/origin.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:$((port_base + 1)); location / { return 200 "hello world\n"; } } }
CONF
cat > "$work/gh.json" <<CONF
{"servers":[{"listen":[{"address":"127.0.0.1","port":$((port_base + 2))}],"routes":[{"match":{"prefix":"/"},"action":{"type":"proxy","upstream":"origin"}}]}],"upstreams":{"origin":{"url":"http://127.0.0.1:$((port_base + 1))"}},"log":{"level":"warn"},"limits":{"maxConnections":20000,"keepAliveTimeoutMs":120000}}
CONF
taskset -c 0 nginx -p "$work" -c "$work/origin.conf" -g 'daemon off;' &
sleep 0.5
