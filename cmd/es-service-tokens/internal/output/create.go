package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// CreatedToken prints the new token: its secret only where no token file
// holds it and no consumer gets it (--deliver). -s hides the line as
// Elasticsearch does, unless it holds the secret: a token whose secret
// nobody saw would only have to be deleted.
func CreatedToken(w io.Writer, asJSON, silent bool, res Created, tok tokens.Token) error {
	switch {
	case asJSON:
		if res.TokenFile == "" && len(res.DeliverTo) == 0 {
			res.Token.Value = tok.Bearer()
		}
		return JSON(w, res)
	case (res.TokenFile != "" || len(res.DeliverTo) > 0) && silent:
		return nil
	case len(res.DeliverTo) > 0 && res.TokenFile == "":
		_, err := fmt.Fprintf(w, "SERVICE_TOKEN %s created for %s (its secret goes to them, it is not printed)\n", tok.QualifiedName(), strings.Join(res.DeliverTo, ", "))
		return err
	case res.TokenFile != "":
		_, err := fmt.Fprintf(w, "SERVICE_TOKEN %s written to %s\n", tok.QualifiedName(), res.TokenFile)
		return err
	default:
		_, err := fmt.Fprintf(w, "SERVICE_TOKEN %s = %s\n", tok.QualifiedName(), tok.Bearer())
		return err
	}
}
