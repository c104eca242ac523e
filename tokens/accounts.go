package tokens

import (
	"fmt"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Account is a built-in service account and the Elasticsearch versions
// that know it. Versions are "major.minor"; an empty Until means it still
// exists in 9.x.
type Account struct {
	Principal string
	Since     string
	Until     string // last version that has it
}

// accounts is the union of ElasticServiceAccounts.ACCOUNTS from 7.13 to
// 9.x, in the HashMap order Elasticsearch 8.16 to 8.19 print it, the only
// versions that know all five.
var accounts = []Account{
	{"elastic/fleet-server", "7.13", ""},
	{"elastic/fleet-server-remote", "8.12", ""},
	{"elastic/auto-ops", "8.16", ""},
	{"elastic/kibana", "7.15", ""},
	{"elastic/enterprise-search-server", "8.1", "8.19"},
}

// Accounts returns every built-in account of 7.13 to 9.x.
func Accounts() []Account { return append([]Account(nil), accounts...) }

// LookupAccount finds a built-in account by principal (case-sensitive).
func LookupAccount(principal string) (Account, bool) {
	for _, a := range accounts {
		if a.Principal == principal {
			return a, true
		}
	}
	return Account{}, false
}

// UnknownPrincipalMessage is Elasticsearch's error for a principal that is
// not a built-in account.
func UnknownPrincipalMessage(principal string) string {
	list := ""
	for i, a := range accounts {
		if i > 0 {
			list += ","
		}
		list += a.Principal
	}
	return fmt.Sprintf("Unknown service account principal: [%s]. Must be one of [%s]", safetext.Input(principal), list)
}

// VersionNote says which Elasticsearch versions know the account, or ""
// when every version from 7.13 to 9.x does.
func (a Account) VersionNote() string {
	switch {
	case a.Since == "7.13" && a.Until == "":
		return ""
	case a.Until == "":
		return fmt.Sprintf("service account [%s] exists in Elasticsearch %s and later only; older nodes reject its tokens", a.Principal, a.Since)
	default:
		return fmt.Sprintf("service account [%s] exists in Elasticsearch %s to %s only; nodes of other versions reject its tokens", a.Principal, a.Since, a.Until)
	}
}
