package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web"
)

// flagSet is a FlagSet whose flags fall back to CLINICBOX_* variables.
type flagSet struct {
	*flag.FlagSet
	e          env
	positional []string
	dataDir    *string // --data, once data() declared it
	orgSlug    *string // --org, once org() declared it
}

func newFlagSet(name string, e env) *flagSet {
	fs := flag.NewFlagSet("clinicbox "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return &flagSet{FlagSet: fs, e: e}
}

// envName is the variable that backs a flag: --public-url → CLINICBOX_PUBLIC_URL.
func envName(flagName string) string {
	return "CLINICBOX_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flagSet) String(name, def, usage string) *string {
	if v := f.e.getenv(envName(name)); v != "" {
		def = v
	}
	return f.FlagSet.String(name, def, usage+" ("+envName(name)+")")
}

func (f *flagSet) Bool(name string, def bool, usage string) *bool {
	if v := f.e.getenv(envName(name)); v != "" {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		}
	}
	return f.FlagSet.Bool(name, def, usage+" ("+envName(name)+")")
}

func (f *flagSet) data() *string {
	f.dataDir = f.String("data", "./data", "data directory: database, certificate, keys")
	return f.dataDir
}

func (f *flagSet) org() *string {
	f.orgSlug = f.FlagSet.String("org", "", "organisation slug (may be left out when there is only one)")
	return f.orgSlug
}

// newOrgFlagSet is the flags of a command on one organisation's data:
// --data and --org, and the command's own.
func newOrgFlagSet(name string, e env) *flagSet {
	f := newFlagSet(name, e)
	f.data()
	f.org()
	return f
}

// openOrg parses the arguments (at most want positional ones) and opens
// the store of the organisation --org names, in the --data directory: the
// start of every command on one organisation's data. The caller closes
// the store.
func (f *flagSet) openOrg(ctx context.Context, args []string, want int) (*store.Store, *store.Org, error) {
	if err := f.parse(args, want); err != nil {
		return nil, nil, err
	}
	return openOrg(ctx, f.e, *f.dataDir, *f.orgSlug)
}

// openOrgWith is openOrg for a command that needs exactly n positional
// arguments; missing says what to give.
func (f *flagSet) openOrgWith(ctx context.Context, args []string, n int, missing string) (*store.Store, *store.Org, error) {
	if err := f.parse(args, n); err != nil {
		return nil, nil, err
	}
	if f.NArg() != n {
		return nil, nil, errors.New(missing)
	}
	return openOrg(ctx, f.e, *f.dataDir, *f.orgSlug)
}

// parse parses args, allowing flags after positional arguments
// ("device log Demo --data DIR"), and refuses more than want positionals.
func (f *flagSet) parse(args []string, want int) error {
	f.positional = nil
	for {
		if err := f.Parse(args); err != nil {
			return err
		}
		rest := f.FlagSet.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			f.positional = append(f.positional, rest...) // after "--" nothing is a flag
			break
		}
		f.positional = append(f.positional, rest[0])
		args = rest[1:]
	}
	if len(f.positional) > want {
		return fmt.Errorf("unexpected argument %q", f.positional[want])
	}
	return nil
}

// NArg is the number of positional arguments.
func (f *flagSet) NArg() int { return len(f.positional) }

// Arg is the i-th positional argument, or "".
func (f *flagSet) Arg(i int) string {
	if i < 0 || i >= len(f.positional) {
		return ""
	}
	return f.positional[i]
}

const dbFile = "clinicbox.db"

// openStore opens the database in dir, creating the directory if needed.
func openStore(ctx context.Context, dir string, log *slog.Logger) (*store.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return store.Open(ctx, filepath.Join(dir, dbFile), store.WithLogger(log))
}

// openOrg opens the database in dir and resolves the organisation a command
// acts on (slug may be empty while there is only one).
func openOrg(ctx context.Context, e env, dir, slug string) (*store.Store, *store.Org, error) {
	st, err := openStore(ctx, dir, newLogger(e.stderr, "text"))
	if err != nil {
		return nil, nil, err
	}
	o, err := st.DefaultOrg(ctx, slug)
	if err != nil {
		st.Close()
		return nil, nil, userError(err)
	}
	return st, o, nil
}

// serveConfig is the whole configuration of 'clinicbox serve', validated in
// one place.
type serveConfig struct {
	DataDir   string
	Addr      string
	PublicURL string
	TLSCert   string
	TLSKey    string
	PlainHTTP bool
	Demo      bool
	LogFormat string
	CacheMB   int
	ACME      bool   // a Let's Encrypt certificate for the public URL's name
	ACMEEmail string // contact for the ACME account (optional)
	// ACMEDirectory is the ACME server's directory URL (default: Let's
	// Encrypt's production server).
	ACMEDirectory string
	// ACMEHTTPAddr serves ACME's HTTP-01 challenge (and redirects every
	// other plain-HTTP request to https), for when port 80 of the public
	// name reaches this box but 443 does not; empty: off.
	ACMEHTTPAddr string
	Video        videoConfig
	// TrustedProxies name the reverse proxies whose X-Forwarded-For is
	// believed; MaxConnsPerIP caps one client address's open connections.
	TrustedProxies []netip.Prefix
	MaxConnsPerIP  int
}

// videoConfig is where the media server listens and what it announces.
type videoConfig struct {
	PublicIPs  []string // announced instead of the interfaces' addresses (NAT with forwarded ports)
	PublicHost string   // name or address browsers reach TURN at
	MediaPort  int      // UDP (all media) and TCP (ICE-TCP); 0: any free port
	TURNPort   int      // UDP and TCP; 0: no TURN
	TURNSPort  int      // TURN over TLS; 0: off
}

func parseServeConfig(e env, args []string) (*serveConfig, error) {
	fs := newFlagSet("serve", e)
	c := &serveConfig{}
	data := fs.data()
	addr := fs.String("addr", ":8443", "address to listen on, HOST:PORT")
	public := fs.String("public-url", "", "base URL used in every link the appliance prints or returns (default: https://<this host>:<port>)")
	cert := fs.String("tls-cert", "", "PEM certificate to serve instead of the self-made one")
	key := fs.String("tls-key", "", "PEM private key for --tls-cert")
	plain := fs.Bool("http", false, "serve plain HTTP (only behind a reverse proxy that terminates TLS)")
	demo := fs.Bool("demo", false, "seed a demo clinic when the database is empty")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	cacheMB := fs.String("cache-mb", "128", "memory for cached API answers in MiB, split between the telehealth API (1/4) and FHIR (3/4); 0 turns the caches off")
	publicIP := fs.String("public-ip", "", "public IP address(es) of the clinic's router, comma-separated, announced for video media (ports forwarded to this box)")
	publicHost := fs.String("public-host", "", "name or address patients' browsers reach the TURN server at (default: the host of --public-url)")
	mediaPort := fs.String("media-port", "8444", "UDP port for all video media, and the TCP port for ICE over TCP; 0: any free port")
	turnPort := fs.String("turn-port", "3478", "TURN port (UDP and TCP) for networks that block the media port; 0: off")
	acme := fs.Bool("acme", false, "get a publicly trusted certificate for the host of --public-url from Let's Encrypt (port 443 of that name must reach --addr)")
	acmeEmail := fs.String("acme-email", "", "contact e-mail for the Let's Encrypt account (optional)")
	acmeDir := fs.String("acme-directory", "", "with --acme: the ACME server's directory URL (default: Let's Encrypt; e.g. its staging server while testing)")
	acmeHTTP := fs.String("acme-http-addr", "", "with --acme: also answer the HTTP-01 challenge on this address (e.g. :80, when port 80 of the public name is forwarded here) and redirect other plain HTTP to https")
	turnsPort := fs.String("turns-port", "5349", "TURN over TLS port, for networks that allow only TLS; 0: off")
	proxies := fs.String("trusted-proxies", "", "reverse proxies (addresses or CIDR prefixes, comma-separated) whose X-Forwarded-For names the client")
	connsPerIP := fs.String("max-conns-per-ip", "64", "most open connections from one client address (trusted proxies are not limited)")
	if err := fs.parse(args, 0); err != nil {
		return nil, err
	}
	var perrs []string
	port := func(name, v string) int {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			perrs = append(perrs, fmt.Sprintf("--%s %q: must be a port number, 0 to 65535", name, v))
		}
		return p
	}
	c.Video.MediaPort = port("media-port", *mediaPort)
	c.Video.TURNPort = port("turn-port", *turnPort)
	c.Video.TURNSPort = port("turns-port", *turnsPort)
	if len(perrs) > 0 {
		return nil, errors.New(strings.Join(perrs, "; "))
	}
	for _, ip := range strings.Split(*publicIP, ",") {
		if ip = strings.TrimSpace(ip); ip == "" {
			continue
		}
		if net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("--public-ip %q: not an IP address", ip)
		}
		c.Video.PublicIPs = append(c.Video.PublicIPs, ip)
	}
	c.Video.PublicHost = strings.TrimSpace(*publicHost)
	c.ACME, c.ACMEEmail = *acme, strings.TrimSpace(*acmeEmail)
	c.ACMEDirectory, c.ACMEHTTPAddr = strings.TrimSpace(*acmeDir), strings.TrimSpace(*acmeHTTP)
	mb, err := strconv.Atoi(*cacheMB)
	if err != nil || mb < 0 {
		return nil, fmt.Errorf("--cache-mb %q: must be a whole number of MiB, 0 or more", *cacheMB)
	}
	c.CacheMB = mb
	if c.TrustedProxies, err = web.ParseTrustedProxies(*proxies); err != nil {
		return nil, fmt.Errorf("--trusted-proxies %q: %w", *proxies, err)
	}
	if c.MaxConnsPerIP, err = strconv.Atoi(*connsPerIP); err != nil || c.MaxConnsPerIP < 1 {
		return nil, fmt.Errorf("--max-conns-per-ip %q: must be a whole number, 1 or more", *connsPerIP)
	}
	c.DataDir, c.Addr, c.PublicURL, c.TLSCert, c.TLSKey = *data, *addr, *public, *cert, *key
	c.PlainHTTP, c.Demo, c.LogFormat = *plain, *demo, *logFormat
	return c, c.validate()
}

func (c *serveConfig) validate() error {
	var errs []error
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: must be HOST:PORT, e.g. :8443", c.Addr))
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		errs = append(errs, fmt.Errorf("--addr %q: bad port", c.Addr))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.PlainHTTP && c.TLSCert != "" {
		errs = append(errs, errors.New("--http and --tls-cert exclude each other"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: must be text or json", c.LogFormat))
	}
	if c.PublicURL == "" && err == nil {
		scheme := "https"
		if c.PlainHTTP {
			scheme = "http"
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = scheme + "://" + net.JoinHostPort(host, port)
	}
	if u, perr := url.Parse(c.PublicURL); err == nil && (perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("--public-url %q: must be an http(s) URL such as https://clinic.example:8443", c.PublicURL))
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.ACME {
		u, _ := url.Parse(c.PublicURL)
		switch {
		case c.PlainHTTP:
			errs = append(errs, errors.New("--acme and --http exclude each other"))
		case c.TLSCert != "":
			errs = append(errs, errors.New("--acme and --tls-cert exclude each other"))
		case u == nil || u.Scheme != "https" || net.ParseIP(u.Hostname()) != nil || !strings.Contains(u.Hostname(), "."):
			errs = append(errs, fmt.Errorf("--acme needs --public-url with a public DNS name, e.g. https://video.clinic.example"))
		}
		if d, err := url.Parse(c.ACMEDirectory); c.ACMEDirectory != "" && (err != nil || d.Scheme != "https" || d.Host == "") {
			errs = append(errs, fmt.Errorf("--acme-directory %q: must be an https URL", c.ACMEDirectory))
		}
		if c.ACMEHTTPAddr != "" {
			if _, p, err := net.SplitHostPort(c.ACMEHTTPAddr); err != nil || p == "" {
				errs = append(errs, fmt.Errorf("--acme-http-addr %q: must be HOST:PORT, e.g. :80", c.ACMEHTTPAddr))
			}
		}
	} else if c.ACMEDirectory != "" || c.ACMEHTTPAddr != "" {
		errs = append(errs, errors.New("--acme-directory and --acme-http-addr need --acme"))
	}
	if c.Video.PublicHost == "" {
		// The public URL's name (TURN over TLS needs the certificate's
		// name), unless it only names this machine.
		if u, err := url.Parse(c.PublicURL); err == nil {
			c.Video.PublicHost = u.Hostname()
		}
		if ip := net.ParseIP(c.Video.PublicHost); (c.Video.PublicHost == "localhost" || ip != nil && ip.IsLoopback()) && len(c.Video.PublicIPs) > 0 {
			c.Video.PublicHost = c.Video.PublicIPs[0]
		}
	}
	if c.Video.MediaPort != 0 && (c.Video.MediaPort == c.Video.TURNPort || c.Video.MediaPort == c.Video.TURNSPort) ||
		c.Video.TURNPort != 0 && c.Video.TURNPort == c.Video.TURNSPort {
		errs = append(errs, errors.New("--media-port, --turn-port and --turns-port must differ"))
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; ")) // one line for the terminal
}

// table prints aligned columns to w: the header, then a line per row.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	fmt.Fprintln(t.tw, strings.Join(header, "\t"))
	return t
}

// row adds a line; each cell is printed as with %v.
func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprintln(t.tw)
}

// flush writes the aligned table.
func (t *table) flush() error { return t.tw.Flush() }
