# Sourced by nginx-smoke.sh and bench.sh: a throwaway nginx on loopback.
#
#   nginx_start DIR LOCATIONS PROBE [SERVERS]
#                                     starts nginx with its files in DIR on a
#                                     free 127.0.0.1 port, serving LOCATIONS
#                                     (nginx `location` blocks, one string),
#                                     plus SERVERS (more `server` blocks);
#                                     waits until PROBE (a healthprobe command,
#                                     word-split: a runner may lead) sees
#                                     /health; sets nginx_port, nginx_pid.
#   free_port                         prints a free 127.0.0.1 port.
#   nginx_stop                        stops it.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

nginx_start() {
  local dir=$1 locations=$2 probe=$3 servers=${4:-}
  command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)" >&2; return 1; }
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
