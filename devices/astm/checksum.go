package astm

// Checksum returns the E1381 checksum of b: the sum of its bytes modulo 256.
// b must span the frame from the frame number through the ETB or ETX
// inclusive; on the wire the result is written as two upper-case hex digits.
func Checksum(b []byte) byte {
	var sum byte
	for _, c := range b {
		sum += c // byte arithmetic wraps, which is exactly "modulo 256"
	}
	return sum
}

const hexDigits = "0123456789ABCDEF"

// appendChecksum appends sum as two upper-case hex digits.
func appendChecksum(dst []byte, sum byte) []byte {
	return append(dst, hexDigits[sum>>4], hexDigits[sum&0x0F])
}

// parseChecksum reads two hex digits. Lower case is accepted because some
// instruments send it even though the standard asks for upper case.
func parseChecksum(c1, c2 byte) (byte, bool) {
	h, ok1 := hexValue(c1)
	l, ok2 := hexValue(c2)
	return h<<4 | l, ok1 && ok2
}

func hexValue(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
