package mailer_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/mailer"
	"github.com/clinicbox/clinicbox/web/mailer/smtptest"
)

func TestSend(t *testing.T) {
	t.Parallel()
	srv, err := smtptest.New()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, port, _ := strings.Cut(srv.Addr, ":")
	p, _ := strconv.Atoi(port)
	cfg := &store.MailSettings{Host: host, Port: p, From: "Clinic <clinic@example.dk>"}
	body := "Kære Søren\n.a line starting with a dot\nhttps://clinic.example/visit/abc"
	err = mailer.Send(context.Background(), cfg, mailer.Message{To: "soren@example.dk", Subject: "Din aftale på klinikken", Body: body}, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages: %d", len(msgs))
	}
	m := msgs[0]
	if m.From != "clinic@example.dk" || len(m.To) != 1 || m.To[0] != "soren@example.dk" {
		t.Errorf("envelope: %+v", m)
	}
	for _, want := range []string{"Subject: =?utf-8?q?Din_aftale_p=C3=A5_klinikken?=", "Content-Type: text/plain; charset=utf-8",
		"Kære Søren\n.a line starting with a dot\nhttps://clinic.example/visit/abc"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Data)
		}
	}
}

func TestSendRefuses(t *testing.T) {
	t.Parallel()
	ok := &store.MailSettings{Host: "127.0.0.1", Port: 1, From: "clinic@example.dk"}
	tests := []struct {
		name string
		cfg  *store.MailSettings
		m    mailer.Message
		want error
	}{
		{"not configured", &store.MailSettings{}, mailer.Message{To: "a@b.dk"}, mailer.ErrNotConfigured},
		{"bad recipient", ok, mailer.Message{To: "not an address"}, nil},
		{"header injection", ok, mailer.Message{To: "a@b.dk", Subject: "x\r\nBcc: evil@example.com"}, nil},
	}
	for _, tt := range tests {
		err := mailer.Send(context.Background(), tt.cfg, tt.m, time.Now())
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
