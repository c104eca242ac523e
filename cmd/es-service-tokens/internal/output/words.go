package output

import "github.com/es-service-tokens/es-service-tokens/internal/remedy"

// FlagWords is how the command line spells each option that a library's
// message names (internal/remedy): the libraries say which option, the
// command says how to type it. TestFlagWordsAreFlags keeps this table to
// the app's own flags.
var FlagWords = map[remedy.Kind]string{
	remedy.Force: "--force", remedy.BreakLock: "--break-lock", remedy.Timeout: "--timeout",
	remedy.ConnectTimeout: "--connect-timeout", remedy.Limit: "--limit", remedy.Canary: "--canary",
	remedy.Batch: "--batch", remedy.DryRun: "--dry-run", remedy.ConfirmTimeout: "--confirm-timeout",
	remedy.ESURL: "--es-url", remedy.ESCA: "--es-ca", remedy.ESInsecureHTTP: "--es-insecure-http",
	remedy.File: "--file", remedy.PathConf: "--path-conf", remedy.ESHome: "--es-home",
	remedy.VaultPasswordFile: "--vault-password-file", remedy.VaultID: "--vault-id",
}

func FlagWord(k remedy.Kind) string { return FlagWords[k] }

// Phrase is err's message with the options it names spelled as flags.
// Every library error the tool prints goes through it (fail, exit).
func Phrase(err error) string { return remedy.Phrase(err, FlagWord) }

// Phrased is m with the options it names spelled as flags.
func Phrased(m remedy.Message) string { return m.Phrase(FlagWord) }
