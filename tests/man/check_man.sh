#!/bin/sh
# check_man.sh PAGE: renders a built man page with groff in warning mode and
# with man -l; fails on any warning or an empty page.
set -eu
page=$1
warnings=$(groff -man -ww -z "$page" 2>&1)
if [ -n "$warnings" ]; then
  echo "$page: groff warnings:" >&2
  echo "$warnings" >&2
  exit 1
fi
text=$(MANWIDTH=80 man -l "$page" 2>&1)
case "$text" in
  *NAME*SYNOPSIS*DESCRIPTION*) ;;
  *) echo "$page: does not render with NAME, SYNOPSIS and DESCRIPTION" >&2; exit 1 ;;
esac
