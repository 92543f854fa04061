package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// The telehealth spec's envelope, used both for webhook payloads and for the
// context-aware linking argument:
//
//	base64(salt, 8 bytes → 12 chars) + base64(IV, 16 bytes → 24 chars) + base64(ciphertext)
//
// with AES-256-CBC, PKCS#7 padding and key = SHA-256(secret + salt), where
// secret is the string as issued (the webhook's encryptionKey exactly as the
// API returned it, or the organisation's linking secret) and salt the raw 8
// bytes. This is what the spec's PHP snippet undoes with
// hash('SHA256', $decryptionKey . $salt, true) and openssl_decrypt(..., 1, $iv).

const (
	saltLen   = 8
	saltB64   = 12 // base64 length of the salt
	ivB64     = 24 // base64 length of the IV
	headerB64 = saltB64 + ivB64
)

// ErrMalformed is an envelope that is not three base64 parts of the
// documented sizes.
var ErrMalformed = errors.New("malformed envelope")

// ErrDecrypt is an envelope that does not decrypt with the secret (wrong
// secret or damaged data).
var ErrDecrypt = errors.New("cannot decrypt")

// deriveKey is SHA-256(secret + salt).
func deriveKey(secret string, salt []byte) []byte {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write(salt)
	return h.Sum(nil)
}

// Seal encrypts plaintext for secret with a fresh random salt and IV.
func Seal(secret string, plaintext []byte) (string, error) {
	var salt [saltLen]byte
	var iv [aes.BlockSize]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	if _, err := rand.Read(iv[:]); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return sealWith(secret, salt[:], iv[:], plaintext)
}

func sealWith(secret string, salt, iv, plaintext []byte) (string, error) {
	block, err := aes.NewCipher(deriveKey(secret, salt))
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	enc := base64.StdEncoding
	return enc.EncodeToString(salt) + enc.EncodeToString(iv) + enc.EncodeToString(buf), nil
}

// Open decrypts an envelope made with secret. It checks the PKCS#7 padding;
// a wrong secret almost always fails that check (ErrDecrypt), but callers
// that must tell secrets apart should also validate the plaintext.
func Open(secret, envelope string) ([]byte, error) {
	if len(envelope) < headerB64+24 {
		return nil, ErrMalformed
	}
	enc := base64.StdEncoding
	salt, err1 := enc.DecodeString(envelope[:saltB64])
	iv, err2 := enc.DecodeString(envelope[saltB64:headerB64])
	ct, err3 := enc.DecodeString(envelope[headerB64:])
	if err1 != nil || err2 != nil || err3 != nil || len(salt) != saltLen || len(iv) != aes.BlockSize ||
		len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, ErrMalformed
	}
	block, err := aes.NewCipher(deriveKey(secret, salt))
	if err != nil {
		return nil, ErrDecrypt
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, ct)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, ErrDecrypt
	}
	return out[:len(out)-pad], nil
}
