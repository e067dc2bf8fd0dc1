package distpool

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// A puller asks the queue's consumer for one task at a time, for one
// slot, on an inbox subscription that lives as long as the slot.
//
// Not jetstream's Fetch: a Fetch gives up at its own clock (its expiry
// plus a second, counted from when it sent the request) and unsubscribes,
// while the server counts the expiry from when it read the request. A
// server that lags by more than that second (a loaded machine, the race
// detector) can hand a task to a fetch that has just given up: delivered
// once and dropped, such a task fails with ErrWorkerLost after AckWait
// when the queue allows no retry. Here nothing is dropped: the slot waits
// for the server's own answer to its request (a task, or the status that
// ends the request), and a task that arrives late still lands on the
// subscription and runs. One subscription for all the requests also
// spares each fetch its SUB and UNSUB.
type puller struct {
	nc      *nats.Conn
	subject string // the consumer's next-message API subject
	inbox   string
	sub     *nats.Subscription
	msgs    chan *nats.Msg
	status  chan nats.Status // the connection's reconnections and its close
	request []byte
	wait    time.Duration // the server's expiry of a request
}

// pullExpiry is how long a request waits on the server for a task.
const pullExpiry = time.Second

// pullPatience is how long past its expiry a request may go unanswered
// before the slot asks again: the server answers every request it has,
// so this only matters when it lost them (a restart). A safety net, not
// a timing: a task that comes later is still run.
const pullPatience = 30 * time.Second

func newPuller(nc *nats.Conn, queue string) (*puller, error) {
	p := &puller{
		nc:      nc,
		subject: "$JS.API.CONSUMER.MSG.NEXT." + tasksStream + "." + consumerName(queue),
		inbox:   nc.NewInbox(),
		msgs:    make(chan *nats.Msg, 8),
		wait:    pullExpiry,
	}
	p.request, _ = json.Marshal(struct {
		Expires time.Duration `json:"expires"`
		Batch   int           `json:"batch"`
	}{pullExpiry, 1}) // a duration and an int: cannot fail
	sub, err := nc.ChanSubscribe(p.inbox, p.msgs)
	if err != nil {
		return nil, fmt.Errorf("distpool: serve: %w", err)
	}
	p.sub = sub
	p.status = nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	return p, nil
}

func (p *puller) close() {
	_ = p.sub.Unsubscribe()
	p.nc.RemoveStatusListener(p.status)
}

// next asks for one task and returns it, or nil once the request has
// ended without one (nothing within its expiry), or an error (a
// conflict such as a deleted consumer, a closed connection). It does not
// stop for Serve's ctx while a request is out, since the server may be
// handing it a task: Serve's shutdown waits pullExpiry at most for it.
func (p *puller) next() (*taskMsg, error) {
	// Only what happens to the connection from this request on matters
	// (a reconnection while the slot ran a task is old news).
	for drained := false; !drained; {
		select {
		case <-p.status:
		default:
			drained = true
		}
	}
	if err := p.nc.PublishRequest(p.subject, p.inbox, p.request); err != nil {
		return nil, err
	}
	if p.nc.IsClosed() { // closed before the listener could hear of it
		return nil, nats.ErrConnectionClosed
	}
	patience := time.NewTimer(p.wait + pullPatience)
	defer patience.Stop()
	for {
		select {
		case m := <-p.msgs:
			status := m.Header.Get("Status")
			switch {
			case len(m.Data) > 0 || status == "":
				return &taskMsg{m: m, nc: p.nc}, nil
			case status == "100": // a heartbeat, if the server sends one
			case status == "404" || status == "408": // nothing within the expiry
				return nil, nil
			default:
				return nil, fmt.Errorf("distpool: serve: task request: %s %s", status, m.Header.Get("Description"))
			}
		case st := <-p.status:
			if st == nats.CLOSED {
				return nil, nats.ErrConnectionClosed
			}
			// Reconnected: the request is lost (the server drops the
			// pull requests of a connection that went away, and a
			// restarted server never had it). Ask again rather than wait
			// for an answer that will not come.
			return nil, nil
		case <-patience.C:
			return nil, nil
		}
	}
}

// A taskMsg is a task as the host handles it: its headers and body, and
// the acknowledgements of JetStream's protocol, published to the
// message's reply subject as jetstream.Msg does.
type taskMsg struct {
	m  *nats.Msg
	nc *nats.Conn
}

func (t *taskMsg) Headers() nats.Header { return t.m.Header }
func (t *taskMsg) Data() []byte         { return t.m.Data }
func (t *taskMsg) Ack() error           { return t.nc.Publish(t.m.Reply, []byte("+ACK")) }
func (t *taskMsg) Term() error          { return t.nc.Publish(t.m.Reply, []byte("+TERM")) }
func (t *taskMsg) InProgress() error    { return t.nc.Publish(t.m.Reply, []byte("+WPI")) }
