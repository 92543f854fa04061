package astm

// Control characters of the E1381 link layer.
const (
	STX byte = 0x02 // start of frame
	ETX byte = 0x03 // end of the last frame of a message
	EOT byte = 0x04 // end of transmission; also "please stop" as a reply
	ENQ byte = 0x05 // bid for the line
	ACK byte = 0x06 // positive reply
	LF  byte = 0x0A // last byte of a frame
	CR  byte = 0x0D // end of a record, and second-to-last byte of a frame
	NAK byte = 0x15 // negative reply (bad frame, or busy when replying to ENQ)
	ETB byte = 0x17 // end of an intermediate frame
)
