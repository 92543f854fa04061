package astm

import "errors"

// Errors of the frame decoder.
var (
	// ErrFrameSyntax reports bytes that are not a frame: no STX, no frame
	// number, no ETB/ETX, a truncated checksum or junk after it.
	ErrFrameSyntax = errors.New("astm: malformed frame")
	// ErrChecksum reports a frame whose checksum does not match its bytes.
	ErrChecksum = errors.New("astm: bad frame checksum")
	// ErrFrameSequence reports a frame whose number is neither the next one
	// nor a repeat of the previous one.
	ErrFrameSequence = errors.New("astm: frame out of sequence")
)

// Reasons a receiver discards a message (wrapped in an *AbortError).
var (
	// ErrReceiveTimeout: the sender went silent for longer than the
	// receiver timer (30 s by default) in the middle of a message.
	ErrReceiveTimeout = errors.New("astm: receiver timed out waiting for a frame")
	// ErrSenderAborted: the sender gave up (EOT right after a NAK, or in the
	// middle of a frame), so what arrived so far is not the whole message.
	ErrSenderAborted = errors.New("astm: sender ended the message after a rejected frame")
	// ErrMessageTooLarge: the message outgrew Config.MaxMessage.
	ErrMessageTooLarge = errors.New("astm: message exceeds the size limit")
)

// Reasons a send fails.
var (
	// ErrReplyTimeout: the receiver did not answer within the sender timer.
	ErrReplyTimeout = errors.New("astm: no reply within the sender timeout")
	// ErrTooManyAttempts: one frame was rejected on every allowed attempt.
	ErrTooManyAttempts = errors.New("astm: frame rejected on every attempt")
	// ErrInterrupted: the receiver answered EOT (receiver interrupt) before
	// the last frame, so the message was not delivered in full.
	ErrInterrupted = errors.New("astm: receiver interrupted the message")
)

// ErrClosed is returned by a Link after Close.
var ErrClosed = errors.New("astm: link closed")

// AbortError reports a message the receiver discarded. It is not fatal: the
// link is back in its neutral state and Receive can be called again. Raw
// holds the bytes received for the discarded message, for the audit trail.
type AbortError struct {
	Err error  // ErrReceiveTimeout, ErrSenderAborted or ErrMessageTooLarge
	Raw []byte // bytes received from ENQ up to the abort
}

// Error describes the discarded message and why.
func (e *AbortError) Error() string { return "astm: message discarded: " + e.Err.Error() }

// Unwrap lets errors.Is match the reason.
func (e *AbortError) Unwrap() error { return e.Err }
