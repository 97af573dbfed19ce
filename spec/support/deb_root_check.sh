#!/usr/bin/env bash
# Run by spec/install_spec.lua under `unshare --mount --propagation private`:
# installs the package with dpkg -i into a throwaway root — this machine's / seen
# through an overlay whose writable layer is a tmpfs in WORK, in this mount
# namespace only — then, in that root and with no path settings at all, loads
# ctct from lua5.4, luajit, /usr/bin/ctct and Debian's nginx. Nothing of it stays:
# the real dpkg database and /usr are never written.
#   deb_root_check.sh DEB WORK PORT
set -euo pipefail
deb=$1 work=$2 port=$3
mount -t tmpfs tmpfs "$work"
mkdir -p "$work/upper" "$work/overlay-work" "$work/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/overlay-work" "$work/root"
mount --bind /proc "$work/root/proc"
mount --rbind /dev "$work/root/dev"
mkdir -p "$work/root/ctct-check"
cp "$deb" "$work/root/ctct-check/"

cat > "$work/root/ctct-check/run.sh" <<'INNER'
set -euo pipefail
port=$1 deb=$2
dpkg -i "/ctct-check/$deb" > /ctct-check/dpkg.log 2>&1 || { cat /ctct-check/dpkg.log; exit 1; }
echo "dpkg $(dpkg-query -W -f='${Status} ${Version}' lua-ctct)"
clean() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ctct-check "$@"; }
probe='local c = require "ctct"; require "ctct.core"
  io.write(c.VERSION, " ", package.searchpath("ctct.core", package.cpath), "\n")'
echo "lua5.4 $(clean lua5.4 -e "$probe")"
echo "luajit $(clean luajit -e "$probe")"
echo "ctct $(clean ctct --version)"
echo "man $(clean man -w ctct) $(clean man -w ctct-contacts)"
echo "luals" $(ls /usr/share/ctct/types/config.json /usr/share/ctct/types/library/ctct.lua)

w=/ctct-check/nginx
mkdir -p "$w/logs" "$w/temp"
cat > "$w/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
daemon off;
master_process off;
pid $w/logs/nginx.pid;
error_log $w/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $w/temp/body;
  proxy_temp_path $w/temp/proxy;
  fastcgi_temp_path $w/temp/fastcgi;
  uwsgi_temp_path $w/temp/uwsgi;
  scgi_temp_path $w/temp/scgi;
  server {
    listen 127.0.0.1:$port;
    location = /version {
      content_by_lua_block {
        local c = require "ctct"
        require "ctct.core"
        ngx.say(c.VERSION, " ", package.searchpath("ctct.core", package.cpath))
      }
    }
  }
}
CONF
# env execs nginx: $! is nginx's own pid, which the trap stops.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ctct-check nginx -p "$w/" -c "$w/nginx.conf" -e "$w/logs/error.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
answer=""
for _ in $(seq 1 50); do
  answer=$(curl -sS --max-time 1 "http://127.0.0.1:$port/version" 2>/dev/null) && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "nginx $answer"
[ -n "$answer" ] || { cat "$w/logs/error.log" >&2; exit 1; }
INNER
chroot "$work/root" bash /ctct-check/run.sh "$port" "$(basename "$deb")"
