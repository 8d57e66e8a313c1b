#!/usr/bin/env bash
# The browser tests drive Debian's Chromium. Install it when we may (root with apt-get);
# otherwise stop and say the one command to run — never skip the browser tests silently.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# pdfsig (poppler-utils) checks the PAdES signature against the school root in an NSS database
command -v certutil >/dev/null 2>&1 || need+=(libnss3-tools)
# zbar reads the QR code of the printed page in the tests (pyzbar loads libzbar.so.0)
/sbin/ldconfig -p 2>/dev/null | grep -q 'libzbar\.so\.0' || need+=(libzbar0)
# qpdf re-saves an issued PDF in the tests: a copy no longer the signed file
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} from Debian for the browser and PDF tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi
echo "The tests need Debian packages: ${need[*]}. Run:" >&2
echo "  sudo apt-get install -y ${need[*]}" >&2
exit 1
