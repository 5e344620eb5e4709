#!/usr/bin/env bash
# Installs the Debian packages the project needs, when run as root and something is missing.
# Not root: prints the exact apt command and fails, so a fresh machine never half-works.
set -euo pipefail
group=${1:-core}
core=(mosquitto espeak-ng alsa-utils libportaudio2 fonts-noto-cjk fonts-tibetan-machine fonts-noto-core
      libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
      libxcb-render-util0 libxcb-image0 python3-venv
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0  # WeasyPrint, the platform's A4 documents
      cups-daemon cups-client cups-ipp-utils dbus-daemon)  # A4 printing (the demo runs its own cupsd + ippeveprinter)
test=(postgresql chromium chromium-driver libfaketime  # the fleet monitor's PostgreSQL and dashboard tests; clocks gone wrong
      poppler-utils)  # pdftotext / pdftoppm read the printed A4 pages back
bench=(chromium nginx-light rsync)
case "$group" in
  core) want=("${core[@]}") ;;
  test) want=("${core[@]}" "${test[@]}") ;;
  bench) want=("${core[@]}" "${bench[@]}") ;;
  *) echo "unknown package group: $group" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
