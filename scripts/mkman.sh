#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# mkman.sh PCPBUDDY VERSION - pcpbuddy.1 on stdout, from the CLI's own
# --help texts (the command list, then each command's), so the man page
# says what the program says.
set -eu
bin=$1
version=$2
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
cat <<HDR
.TH PCPBUDDY 1 "" "pcpbuddy $version" "User Commands"
.SH NAME
pcpbuddy \- a userspace port of the Linux zone/PCP page allocator
.SH SYNOPSIS
.B pcpbuddy
[\fICOMMAND\fR [\fIARGS\fR]]
.SH DESCRIPTION
.nf
HDR
"$bin" --help | esc
echo ".fi"
for c in run compare sweep plot import replay fidelity sim exec config show; do
	echo ".SH \"$(echo "$c" | tr a-z A-Z)\""
	echo ".nf"
	"$bin" "$c" --help 2>&1 | esc || true
	echo ".fi"
done
echo ".SH \"CONFIGURATION KEYS\""
echo ".nf"
"$bin" config --help | esc
echo ".fi"
