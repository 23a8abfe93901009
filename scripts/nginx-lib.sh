# shellcheck shell=bash
# Sourced after scripts/lib.sh by nginx-smoke.sh, bench.sh, probe-cost.sh
# and link-order.sh: a throwaway nginx on loopback.
#
#   nginx_start DIR LOCATIONS PROBE [SERVERS]
#                                     starts nginx with its files in DIR on a
#                                     free 127.0.0.1 port, serving LOCATIONS
#                                     (nginx `location` blocks, one string),
#                                     plus SERVERS (more `server` blocks);
#                                     waits until PROBE (a healthprobe command,
#                                     word-split: a runner may lead) sees
#                                     /health; sets nginx_port, nginx_pid.
#   nginx_stop                        stops it.
nginx_start() {
  local dir=$1 locations=$2 probe=$3 servers=${4:-}
  need_packages nginx=nginx-light
  nginx_port=$(free_port)
  cat > "$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir;
  proxy_temp_path $dir;
  fastcgi_temp_path $dir;
  uwsgi_temp_path $dir;
  scgi_temp_path $dir;
  server {
    listen 127.0.0.1:$nginx_port;
    $locations
  }
  $servers
}
CONF
  nginx -c "$dir/nginx.conf" &
  nginx_pid=$!
  for _ in $(seq 50); do
    $probe -q -t 1s "http://127.0.0.1:$nginx_port/health" && return 0
    sleep 0.1
  done
  echo "nginx did not come up on 127.0.0.1:$nginx_port" >&2
  return 1
}

nginx_stop() {
  [ -n "${nginx_pid:-}" ] || return 0
  kill "$nginx_pid" 2>/dev/null
  wait "$nginx_pid" 2>/dev/null
  nginx_pid=""
}
