#!/usr/bin/env bash
# Install the pinned Terraform CLI (cdktf deploy/diff drive it) into /usr/local/bin,
# verifying the archive against HashiCorp's published SHA256SUMS. Usage: install-terraform.sh VERSION
set -euo pipefail
version=${1:?usage: install-terraform.sh VERSION}
if command -v terraform >/dev/null && terraform version | head -1 | grep -qx "Terraform v$version"; then
  exit 0
fi
arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
base="https://releases.hashicorp.com/terraform/$version"
zip="terraform_${version}_linux_${arch}.zip"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
curl -fsSL --proto '=https' -o "$tmp/$zip" "$base/$zip"
curl -fsSL --proto '=https' -o "$tmp/SHA256SUMS" "$base/terraform_${version}_SHA256SUMS"
(cd "$tmp" && grep " $zip\$" SHA256SUMS | sha256sum -c -)
unzip -q -o "$tmp/$zip" terraform -d "$tmp"
install -m 0755 "$tmp/terraform" /usr/local/bin/terraform
terraform version | head -1
