package output

import (
	"fmt"
	"io"

	"github.com/es-service-tokens/es-service-tokens/internal/buildinfo"
)

// Version renders which build this is, for pinning and change approval.
func Version(w io.Writer, asJSON bool, info buildinfo.Info) error {
	if asJSON {
		return JSON(w, versionJSON(info))
	}
	_, err := fmt.Fprintf(w, "es-service-tokens %s\ncommit: %s\nbuilt:  %s\ngo:     %s %s\n",
		info.Version, info.Commit, info.Date, info.Go, info.Platform)
	return err
}
