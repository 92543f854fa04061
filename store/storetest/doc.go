// Package storetest is the one test fixture for a real store: Open gives
// a store on a new SQLite file in the test's temporary directory (closed
// when the test ends), Clock a clock a test moves by hand, and NewClinic a
// small demo clinic (an organisation with a user of each role, a waiting
// room and a few patients) for tests that need one. Every package's tests
// use it instead of their own copies of that setup. It is imported by
// tests only.
package storetest
