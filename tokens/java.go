package tokens

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the small pieces of Java behaviour that decide whether
// Elasticsearch accepts a line or a token. They are reproduced rather than
// approximated because "Elasticsearch would load this file" is the promise
// the whole tool rests on.

// javaTrim is String.trim: it strips every char <= U+0020 from both ends.
func javaTrim(s string) string {
	start, end := 0, len(s)
	for start < end && s[start] <= ' ' {
		start++
	}
	for end > start && s[end-1] <= ' ' {
		end--
	}
	return s[start:end]
}

// javaIsWhitespace is Character.isWhitespace for a BMP char.
func javaIsWhitespace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f:
		return true
	case 0x00a0, 0x2007, 0x202f: // non-breaking spaces are excluded
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}

// javaIsBlank is log4j's Strings.isBlank, which FileLineParser uses.
func javaIsBlank(s string) bool {
	for _, r := range s {
		if !javaIsWhitespace(r) {
			return false
		}
	}
	return true
}

var errJavaNumberFormat = errors.New("not a number")

// javaParseInt is Integer.parseInt(s, 10): an optional sign, then one or
// more Unicode decimal digits (none of which lies above U+FFFF), within
// int32.
func javaParseInt(str string) (int, error) {
	s := []rune(str)
	if len(s) == 0 {
		return 0, errJavaNumberFormat
	}
	neg := false
	i := 0
	if s[0] == '-' || s[0] == '+' {
		if len(s) == 1 {
			return 0, errJavaNumberFormat
		}
		neg = s[0] == '-'
		i = 1
	}
	var n int64
	for ; i < len(s); i++ {
		d := javaDigit(s[i])
		if d < 0 {
			return 0, errJavaNumberFormat
		}
		n = n*10 + int64(d)
		if n > 1<<31 {
			return 0, errJavaNumberFormat
		}
	}
	if neg {
		n = -n
	}
	if n > 1<<31-1 || n < -(1<<31) {
		return 0, errJavaNumberFormat
	}
	return int(n), nil
}

// javaDigit is Character.digit(r, 10) for a BMP char. Unicode lays decimal
// digits out in runs of ten starting at zero, so a digit's value is its
// position in its run.
func javaDigit(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	if r < 0x80 || !unicode.IsDigit(r) {
		return -1
	}
	v := 0
	for p := r - 1; v < 9 && unicode.IsDigit(p); p-- {
		v++
	}
	return v
}

// javaSubstring is s.substring(from, to) with Java's UTF-16 indexes; ok
// is false where Java would throw.
func javaSubstring(s string, from, to int) (string, bool) {
	if isASCII(s) {
		if from < 0 || to > len(s) || from > to {
			return "", false
		}
		return s[from:to], true
	}
	u := utf16.Encode([]rune(s))
	if from < 0 || to > len(u) || from > to {
		return "", false
	}
	return string(utf16.Decode(u[from:to])), true
}

func isASCII(s string) bool {
	// Eight bytes at a time: every line of the file passes through here.
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// compareUTF16 orders strings as Java's String.compareTo does (by UTF-16
// code unit), which is the order of the TreeMap Elasticsearch writes from.
// UTF-8 byte order is code point order, which differs from UTF-16 order
// only between a character above U+FFFF and one in U+E000-U+FFFF.
func compareUTF16(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return len(a) - len(b)
	}
	for i > 0 && !utf8.RuneStart(a[i]) {
		i-- // back to the start of the character that differs
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	return int(firstUnit(ra)) - int(firstUnit(rb))
}

// hasCharAboveUD7FF reports whether s has a character whose UTF-8 lead
// byte is 0xEE or more, the only ones whose UTF-8 and UTF-16 orders differ.
func hasCharAboveUD7FF(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xee {
			return true
		}
	}
	return false
}

func firstUnit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}

// utf16Len is String.length().
func utf16Len(s string) int {
	if isASCII(s) {
		return len(s)
	}
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

const stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var stdDecodeMap = func() [256]int8 {
	var m [256]int8
	for i := range m {
		m[i] = -1
	}
	for i := 0; i < len(stdAlphabet); i++ {
		m[stdAlphabet[i]] = int8(i)
	}
	return m
}()

// javaStreamDecodeBase64 is Base64.getDecoder().wrap(in) read to the end,
// which is how Elasticsearch decodes a bearer token: padding is optional,
// whatever follows valid padding is ignored, and an illegal character, a
// misplaced '=' or a single dangling character is an error.
func javaStreamDecodeBase64(in []byte) ([]byte, error) {
	out := make([]byte, 0, len(in)*3/4+2)
	var bits uint32
	n := 0 // characters in the current quantum
	flush := func() {
		// A partial quantum of n chars yields n-1 bytes; unused low bits
		// are dropped without a check, as the JDK does.
		if n >= 2 {
			out = append(out, byte(bits>>16))
		}
		if n == 3 {
			out = append(out, byte(bits>>8))
		}
	}
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c == '=' {
			switch {
			case n == 0 || n == 1:
				return nil, errors.New("illegal base64 padding")
			case n == 2 && (i+1 >= len(in) || in[i+1] != '='):
				return nil, errors.New("illegal base64 padding")
			}
			flush()
			return out, nil
		}
		v := stdDecodeMap[c]
		if v < 0 {
			return nil, errors.New("illegal base64 character")
		}
		bits |= uint32(v) << (18 - 6*n)
		n++
		if n == 4 {
			out = append(out, byte(bits>>16), byte(bits>>8), byte(bits))
			bits, n = 0, 0
		}
	}
	if n == 1 {
		return nil, errors.New("base64 ends with one dangling character")
	}
	flush()
	return out, nil
}

// javaDecodeBase64 is Base64.getDecoder().decode(s), used for PBKDF2 and
// SSHA256 salts: padding is optional but must be right when present, and
// nothing may follow it.
func javaDecodeBase64(s string) ([]byte, error) {
	body := strings.TrimSuffix(strings.TrimSuffix(s, "="), "=")
	if pad := len(s) - len(body); pad > 0 && len(s)%4 != 0 {
		return nil, errors.New("illegal base64 padding")
	}
	if strings.Contains(body, "=") {
		return nil, errors.New("illegal base64 padding")
	}
	// Without '=' the two decoders agree on everything else.
	return javaStreamDecodeBase64([]byte(body))
}

// javaDecodeUTF8 is StandardCharsets.UTF_8.decode(bytes), as Elasticsearch
// decodes a bearer token's content (CharArrays.utf8BytesToChars): each
// malformed sequence becomes one U+FFFD, as the JDK's UTF_8 decoder
// delimits it. That is Unicode's "maximal subpart" rule (§3.9) with one
// exception: an encoded surrogate (ED A0..BF xx) is read as a whole 3-byte
// sequence, then refused, so ED A0 80 is one U+FFFD where the Unicode rule
// makes three, and ED A0 before a non-continuation byte, or at the end, is
// one. Go's strings.ToValidUTF8 replaces a whole run of bad bytes with one
// U+FFFD, and utf8.DecodeRune one byte at a time; either would give a
// secret of another length and hash than Elasticsearch sees.
func javaDecodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	out.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out.WriteByte(b[i])
			i++
			continue
		}
		n, ok := javaUTF8Sequence(b[i:])
		if ok {
			out.Write(b[i : i+n])
		} else {
			out.WriteRune(utf8.RuneError)
		}
		i += n
	}
	return out.String()
}

// javaUTF8Sequence reads the sequence at the start of b (non-empty, not
// ASCII) as the JDK's UTF_8 decoder does: n bytes that make one character
// (ok), or n bytes that make one malformed sequence (one U+FFFD).
func javaUTF8Sequence(b []byte) (n int, ok bool) {
	c := b[0]
	// The length a lead byte announces and the range its second byte must
	// fall in (Table 3-7, "Well-Formed UTF-8 Byte Sequences"), except for
	// ED, whose second byte the JDK accepts up to BF for delimiting.
	want, lo, hi := 0, byte(0x80), byte(0xbf)
	switch {
	case c >= 0xc2 && c <= 0xdf:
		want = 2
	case c == 0xe0:
		want, lo = 3, 0xa0
	case c >= 0xe1 && c <= 0xef:
		want = 3
	case c == 0xf0:
		want, lo = 4, 0x90
	case c == 0xf4:
		want, hi = 4, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		want = 4
	default:
		return 1, false // cannot begin a sequence
	}
	k := 1 // bytes of the sequence read so far
	for k < want && k < len(b) {
		d := b[k]
		if k == 1 && (d < lo || d > hi) || k > 1 && (d < 0x80 || d > 0xbf) {
			break
		}
		k++
	}
	surrogate := c == 0xed && k > 1 && b[1] >= 0xa0
	return k, k == want && !surrogate
}
