package main

import "github.com/es-service-tokens/es-service-tokens/internal/remedy"

// flagWords is how the command line spells each option that a library's
// message names (internal/remedy): the libraries say which option, the
// command says how to type it. TestFlagWordsAreFlags keeps this table to
// the app's own flags.
var flagWords = map[remedy.Kind]string{
	remedy.Force: "--force", remedy.BreakLock: "--break-lock", remedy.Timeout: "--timeout",
	remedy.ConnectTimeout: "--connect-timeout", remedy.Limit: "--limit", remedy.Canary: "--canary",
	remedy.Batch: "--batch", remedy.DryRun: "--dry-run", remedy.ConfirmTimeout: "--confirm-timeout",
	remedy.ESURL: "--es-url", remedy.ESCA: "--es-ca", remedy.ESInsecureHTTP: "--es-insecure-http",
	remedy.File: "--file", remedy.PathConf: "--path-conf", remedy.ESHome: "--es-home",
	remedy.VaultPasswordFile: "--vault-password-file", remedy.VaultID: "--vault-id",
}

func flagWord(k remedy.Kind) string { return flagWords[k] }

// phrase is err's message with the options it names spelled as flags.
// Every library error the tool prints goes through it (fail, exit).
func phrase(err error) string { return remedy.Phrase(err, flagWord) }

// phrased is m with the options it names spelled as flags.
func phrased(m remedy.Message) string { return m.Phrase(flagWord) }
