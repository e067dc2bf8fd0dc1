package distpool

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// A task the server hands over after the request's expiry plus the
// second that jetstream's Fetch waits on its own clock (a lagging server
// counts the expiry from when it read the request) still reaches the
// slot: Fetch would have unsubscribed and dropped it, and with no retries
// the task would have failed with ErrWorkerLost.
func TestPullerTakesATaskThatComesLate(t *testing.T) {
	s, err := StartServer()
	require.NoError(t, err)
	defer s.Shutdown()
	nc, err := s.Connect()
	require.NoError(t, err)
	defer nc.Close()
	p, err := newPuller(nc, "late")
	require.NoError(t, err)
	defer p.close()
	// A stand-in for the consumer's API subject, answering as a lagging
	// server would: first "nothing within the expiry", then a task long
	// after the expiry of the request it answers.
	p.subject, p.wait = "test.pull.late", 100*time.Millisecond
	late := p.wait + time.Second + 500*time.Millisecond
	reqs := make(chan *nats.Msg, 2)
	_, err = nc.ChanSubscribe(p.subject, reqs)
	require.NoError(t, err)

	go func() {
		r := <-reqs
		timeout := nats.NewMsg(r.Reply)
		timeout.Header.Set("Status", "408")
		timeout.Header.Set("Description", "Request Timeout")
		_ = nc.PublishMsg(timeout)
	}()
	m, err := p.next()
	require.NoError(t, err)
	require.Nil(t, m, "a request that ended without a task gives none")

	go func() {
		r := <-reqs
		time.Sleep(late) // the lagging server: what this test is about
		task := nats.NewMsg(r.Reply)
		task.Data = []byte("the task")
		_ = nc.PublishMsg(task)
	}()
	m, err = p.next()
	require.NoError(t, err)
	require.NotNil(t, m)
	require.Equal(t, "the task", string(m.Data()))
}
