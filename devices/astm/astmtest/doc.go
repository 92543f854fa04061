// Package astmtest provides a fake clock for driving the ASTM link layer
// (and anything else that takes an astm.Clock) in tests without waiting.
package astmtest
