# Sourced by deepnet's scripts: finds a JDK >= 22 and exports JAVA_HOME and PATH for it.
# JAVA_HOME wins when it qualifies; otherwise the newest JDK under /usr/lib/jvm that does.

deepnet_jdk_major() { # $1 = a JDK home; prints its feature version, or nothing
  local release="$1/release" v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  [ "$v" = "1" ] && v=8
  printf '%s' "$v"
}

deepnet_find_jdk() {
  local min=22 home major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(deepnet_jdk_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then
      best="$JAVA_HOME"; best_major=$major
    fi
  fi
  if [ -z "$best" ]; then
    for home in /usr/lib/jvm/*; do
      [ -d "$home" ] && [ ! -L "$home" ] || continue
      major=$(deepnet_jdk_major "$home")
      if [ -n "$major" ] && [ "$major" -ge "$min" ] && [ "$major" -gt "$best_major" ]; then
        best="$home"; best_major=$major
      fi
    done
  fi
  if [ -z "$best" ]; then
    echo "deepnet: needs a JDK >= $min (FFM API); none in JAVA_HOME (${JAVA_HOME:-unset}) or /usr/lib/jvm - install one (e.g. Temurin 25) and set JAVA_HOME" >&2
    return 1
  fi
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
}

deepnet_require_mvn() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "deepnet: needs Apache Maven >= 3.8 on PATH (Debian: apt-get install -y maven)" >&2
    return 1
  fi
}
