// Command clinicbox is the clinic appliance: one binary that serves the
// clinician pages, the video visits, the instrument ports and the APIs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	// The waiting rooms name their zones (Europe/Copenhagen): the binary
	// carries the zone database so a minimal system still knows them.
	_ "time/tzdata"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "clinicbox:", err)
		}
		os.Exit(1)
	}
}

// env is what a command reads from its surroundings; tests pass their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the appliance", serveCmd},
		{"migrate", "apply database migrations and exit", migrateCmd},
		{"backup", "write a consistent copy of the database to FILE (safe while serving)", backupCmd},
		{"user", "manage users: user add", userCmd},
		{"org", "manage organisations: org add, org list, org grant-fleet", orgCmd},
		{"apikey", "manage telehealth API keys: apikey create, list, revoke", apikeyCmd},
		{"linking-secret", "print (--rotate: replace) the context-aware linking secret", linkingSecretCmd},
		{"device", "manage instruments: device add, list, remove, log", deviceCmd},
		{"client", "manage API clients: client create [--kind instrument|poct], list, revoke", clientCmd},
		{"lis", "send results to a LIS over HL7 v2/MLLP: lis add, list, remove", lisCmd},
		{"results", "print stored instrument results: results list [--json]", resultsCmd},
		{"simulate", "speak like an instrument (astm, hl7, line) on a pty, a serial port or TCP", simulateCmd},
		{"version", "print the version", versionCmd},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: clinicbox COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --data DIR (or CLINICBOX_DATA); 'clinicbox COMMAND -h' lists its flags.")
}

func versionCmd(ctx context.Context, e env, args []string) error {
	fmt.Fprintln(e.stdout, "clinicbox", version)
	return nil
}
