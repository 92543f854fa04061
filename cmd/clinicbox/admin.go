package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

func migrateCmd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("migrate", e)
	data := fs.data()
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, err := openStore(ctx, *data, newLogger(e.stderr, "text"))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Ready(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "database is up to date:", st.Path())
	return nil
}

func backupCmd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("backup", e)
	data := fs.data()
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: clinicbox backup [--data DIR] FILE") }
	if err := fs.parse(args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("backup: name the FILE to write")
	}
	st, err := openStore(ctx, *data, newLogger(e.stderr, "text"))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "backup written to", fs.Arg(0))
	return nil
}

// subcommand dispatches "clinicbox NOUN VERB ...".
func subcommand(noun string, verbs map[string]func(context.Context, env, []string) error) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		names := make([]string, 0, len(verbs))
		for k := range verbs {
			names = append(names, k)
		}
		if len(args) == 0 {
			return fmt.Errorf("%s: name an action: %s", noun, strings.Join(names, ", "))
		}
		fn, ok := verbs[args[0]]
		if !ok {
			return fmt.Errorf("%s: unknown action %q (want one of: %s)", noun, args[0], strings.Join(names, ", "))
		}
		return fn(ctx, e, args[1:])
	}
}

var userCmd = subcommand("user", map[string]func(context.Context, env, []string) error{"add": userAdd})
var orgCmd = subcommand("org", map[string]func(context.Context, env, []string) error{"add": orgAdd, "list": orgList,
	"grant-fleet": orgGrantFleet})

// orgGrantFleet lets an admin (a distributor's) see another organisation's
// devices on the fleet page.
func orgGrantFleet(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("org grant-fleet", e)
	email := fs.FlagSet.String("email", "", "the admin who may see the organisation's fleet (required)")
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.GrantFleetByEmail(ctx, *email, o.ID); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "%s now sees the devices of %s on the fleet page\n", *email, o.Slug)
	return nil
}

func userAdd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("user add", e)
	data := fs.data()
	email := fs.FlagSet.String("email", "", "sign-in email (required)")
	name := fs.FlagSet.String("name", "", "full name (required)")
	role := fs.FlagSet.String("role", "", "admin, clinician or frontdesk (required)")
	org := fs.org()
	fromStdin := fs.FlagSet.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	password := ""
	if *fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("--password-stdin: standard input has no password")
		}
	}
	generated := password == ""
	if generated {
		password = store.NewToken(12)
	}
	st, o, err := openOrg(ctx, e, *data, *org)
	if err != nil {
		return err
	}
	defer st.Close()
	u := &store.User{Email: *email, Name: *name, Role: *role}
	if err := st.CreateUser(ctx, o.ID, u, password); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "created %s %s (%s) in %s\n", u.Role, u.Email, u.Name, o.Slug)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", password)
	}
	return nil
}

func orgAdd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("org add", e)
	data := fs.data()
	name := fs.FlagSet.String("name", "", "organisation name (required)")
	slug := fs.FlagSet.String("slug", "", "short id: lower-case letters, digits, dashes (required)")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, err := openStore(ctx, *data, newLogger(e.stderr, "text"))
	if err != nil {
		return err
	}
	defer st.Close()
	o := &store.Org{Name: *name, Slug: *slug}
	if err := st.CreateOrg(ctx, o); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "created organisation %s (%s)\n", o.Slug, o.Name)
	return nil
}

func orgList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("org list", e)
	data := fs.data()
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, err := openStore(ctx, *data, newLogger(e.stderr, "text"))
	if err != nil {
		return err
	}
	defer st.Close()
	orgs, err := st.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		// org_… is the id the monitoring API's X-Organization-ID header takes.
		fmt.Fprintf(e.stdout, "%s\torg_%s\t%s\n", o.Slug, o.UUID, o.Name)
	}
	return nil
}

// userError turns store errors into one line a person at a terminal reads.
func userError(err error) error {
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return errors.New(ve.Error())
	}
	return err
}
