package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// checksumPrefix names the checksum algorithm and its normalisation, so a
// later change of either can be told apart from a changed file.
const checksumPrefix = "sha256-lf:"

var bom = []byte{0xEF, 0xBB, 0xBF}

// Checksum returns the checksum of a migration file: SHA-256 of its content
// with a UTF-8 byte order mark removed and line endings normalised to LF, so
// that an editor or a git checkout changing CRLF/LF is not a change.
func Checksum(src []byte) string {
	src = bytes.TrimPrefix(src, bom)
	if bytes.IndexByte(src, '\r') >= 0 {
		src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
		src = bytes.ReplaceAll(src, []byte("\r"), []byte("\n"))
	}
	sum := sha256.Sum256(src)
	return checksumPrefix + hex.EncodeToString(sum[:])
}
