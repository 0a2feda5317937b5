#!/usr/bin/env bash
# Placeholder until the media plane's prompt generator lands; accepts --if-missing.
exit 0
