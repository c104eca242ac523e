// Package inventory reads the list of nodes to push to: es-service-tokens'
// own YAML format or an Ansible YAML inventory, completed from the user's
// ssh_config. Every effective value records where it came from, so that
// `es-service-tokens nodes` can answer "why does it connect there?".
//
// The inventory tree (inventory, inventory/ansible, inventory/sshconfig)
// is pure data: files in, resolved nodes out. It connects nowhere, so it
// must never import sync/ or cmd/, SSH or SFTP, or package net: showing
// the node table (`nodes`) and refusing a bad inventory before anything
// changes must not depend on any host being reachable.
// internal/layout's test enforces this.
package inventory
