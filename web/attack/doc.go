// Package attack is the standing attack suite: it holds only tests, run by
// `make test` with small budgets and by `make attack` at length.
//
//   - TestTenantMatrix: every route web.Build serves × every credential kind
//     of one organisation × another organisation's ids → never a 2xx naming
//     the other organisation's data, never a 5xx, the other organisation's
//     rows unchanged. The route list is web.Build's; a route whose path
//     parameters the suite cannot fill fails the test.
//   - TestBadInput: per face, malformed and hostile bodies → a 4xx in that
//     face's documented error shape, and no row stored anywhere.
//   - TestCrashLoop: the real clinicbox binary, killed with SIGKILL during
//     mixed writes (API creates, instrument messages over a pty, webhook
//     deliveries) and restarted; every acknowledged write survives once,
//     the database's integrity check passes and the audit chain verifies.
//
// Knobs (go test flags, after -args): -attack.rounds (crash-loop rounds,
// default 2), -attack.writers (concurrent writers per round, default 3),
// -attack.repeat (times each bad input is sent, default 1).
package attack
