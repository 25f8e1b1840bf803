# Sourced by deepnet's scripts: installs the Debian packages deepnet needs when they are missing.
# deepnet_ensure_debian PACKAGE FILE: when FILE does not exist, installs PACKAGE with apt-get
# (as root, quietly); otherwise says in one line what to run. Never fails the caller: the tests or
# commands that need the package fail with their own message.
deepnet_ensure_debian() {
  local pkg="$1" file="$2"
  [ -e "$file" ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "deepnet: installing Debian package $pkg (needed for $file)..." >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg"; } >/dev/null 2>&1; then
      echo "deepnet: could not install $pkg; run: apt-get install -y $pkg" >&2
    fi
  else
    echo "deepnet: $file is missing; run (as root): apt-get install -y $pkg" >&2
  fi
  return 0
}
