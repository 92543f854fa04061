// Command loadgen measures the media server under load (make bench-video):
// N concurrent 1:1 calls of pion peers on this machine, each direction
// 1.5 Mbit/s of VP8-sized packets plus Opus. The media server runs in a
// child process (this same binary with -sfu) so that its CPU time is its
// own; the same run measures a plain pion read-and-write relay as the
// baseline. Each packet carries its send time, so the receiver measures
// loss and the latency the server adds.
package main
