package distpool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/nats-io/nats.go/jetstream"
)

// What lives on the server, all created on first use by drivers and hosts
// alike and never deleted (deleting a file stream and creating it again
// at once can fail while the server removes the old directory):
//
//   - stream DISTPOOL_TASKS, work-queue retention, subjects
//     distpool.task.<queue>.<pool>: each task is one message, kept until
//     a host acks it. Nats-Msg-Id "<pool>.<task>" makes a republished
//     task a duplicate the stream drops.
//   - one durable pull consumer per queue, "q-<queue>": hosts fetch from
//     it only as many tasks as they have idle workers. Its AckWait bounds
//     how long a lost host's task goes unanswered (hosts heartbeat with
//     InProgress while a task runs, so AckWait does not bound a task's
//     length), and MaxDeliver is 1 + the queue's retries: 1 by default,
//     so a task whose host is lost is never run again behind the user's
//     back (Python's semantics). When a task runs out of deliveries the
//     server sends the MAX_DELIVERIES advisory with its stream sequence;
//     the pool that published it fails it with ErrWorkerLost and deletes
//     it.
//   - stream DISTPOOL_RESULTS, limits retention (an hour), subjects
//     distpool.result.<pool>: a pool reads its results with an ordered
//     consumer (which survives reconnects) and purges them when it ends.
//     Nats-Msg-Id "r.<pool>.<task>" and the pool's own table make the
//     first result of a task the only one.
//   - stream DISTPOOL_ADVISORIES keeps the MAX_DELIVERIES advisories of
//     DISTPOOL_TASKS for an hour, so that a pool reads them with an
//     ordered consumer and misses none while its connection is down.
//   - object store distpool_blobs: a task or result too large for one
//     message (the server's max payload, 1 MB by default) travels as an
//     object, which the object store cuts into chunks; the message names
//     it. The pool deletes its tasks' objects when they are answered and
//     results' objects once read; an hour's TTL takes what a crash left.
//   - KV bucket distpool_hosts: key "<queue>.<host>" holds the host's
//     slots, put every hostBeat; the pool's Size is the sum over keys
//     younger than hostStale.
const (
	tasksStream   = "DISTPOOL_TASKS"
	resultsStream = "DISTPOOL_RESULTS"
	advStream     = "DISTPOOL_ADVISORIES"
	hostsBucket   = "distpool_hosts"
	blobsBucket   = "distpool_blobs"
	taskPrefix    = "distpool.task."
	resultPrefix  = "distpool.result."
	resultsMaxAge = time.Hour
	dupWindow     = 10 * time.Minute
	hostBeat      = 2 * time.Second
	hostStale     = 3 * hostBeat

	hdrBuild  = "Distpool-Build"
	hdrFunc   = "Distpool-Func"
	hdrItems  = "Distpool-Items"
	hdrTask   = "Distpool-Task"
	hdrReply  = "Distpool-Reply"
	hdrWorker = "Distpool-Worker"
	hdrPid    = "Distpool-Pid"
	hdrStatus = "Distpool-Status" // "ok", or "error" with a wireError body
	hdrBlob   = "Distpool-Blob"   // the body is this object of blobsBucket

	// headroom is what a message keeps of the server's max payload for
	// its headers; a body larger than the rest travels as a blob.
	headroom = 8 << 10

	advisoryMaxDeliveries = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + tasksStream + "."
)

func consumerName(queue string) string { return "q-" + queue }
func taskSubject(queue, pool string) string {
	return taskPrefix + queue + "." + pool
}

// validName accepts names usable as one subject token and consumer name.
func validName(what, s string) error {
	if s == "" || len(s) > 64 || strings.ContainsAny(s, ".*>$ \t\r\n/\\") {
		return fmt.Errorf("distpool: %s %q: want 1-64 characters without spaces, dots, slashes, '*', '>' or '$'", what, s)
	}
	return nil
}

// setup makes sure the streams exist.
func setup(ctx context.Context, js jetstream.JetStream) error {
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: tasksStream, Subjects: []string{taskPrefix + ">"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		Duplicates: dupWindow,
	}); err != nil {
		return fmt.Errorf("distpool: stream %s: %w", tasksStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: resultsStream, Subjects: []string{resultPrefix + ">"},
		Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
		MaxAge: resultsMaxAge, Duplicates: dupWindow,
	}); err != nil {
		return fmt.Errorf("distpool: stream %s: %w", resultsStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: advStream, Subjects: []string{advisoryMaxDeliveries + "*"},
		Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: resultsMaxAge,
	}); err != nil {
		return fmt.Errorf("distpool: stream %s: %w", advStream, err)
	}
	return nil
}

func hostsKV(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: hostsBucket, TTL: hostStale, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("distpool: bucket %s: %w", hostsBucket, err)
	}
	return kv, nil
}

func blobStore(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: blobsBucket, TTL: resultsMaxAge, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("distpool: object store %s: %w", blobsBucket, err)
	}
	return obs, nil
}

// blobs opens the object store on first use.
type blobs struct {
	js   jetstream.JetStream
	once sync.Once
	obs  jetstream.ObjectStore
	err  error
}

func (b *blobs) store() (jetstream.ObjectStore, error) {
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		b.obs, b.err = blobStore(ctx, b.js)
	})
	return b.obs, b.err
}

func (b *blobs) put(name string, data []byte, wait time.Duration) error {
	obs, err := b.store()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := obs.PutBytes(ctx, name, data); err != nil {
		return fmt.Errorf("distpool: storing %d bytes as object %q: %w", len(data), name, err)
	}
	return nil
}

func (b *blobs) get(name string, wait time.Duration) ([]byte, error) {
	obs, err := b.store()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	data, err := obs.GetBytes(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("distpool: reading object %q: %w", name, err)
	}
	return data, nil
}

func (b *blobs) delete(name string) {
	obs, err := b.store()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	_ = obs.Delete(ctx, name)
}

// BuildID returns this program's build identity: a hash of its
// executable. A task carries its driver's; a host whose own differs
// refuses it with ErrBuildMismatch, since the same function name may mean
// other code and the raw item encodings other layouts.
func BuildID() string { return buildID() }

var buildID = sync.OnceValue(func() string {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
})

// wireError is a failed task's result body.
type wireError struct {
	Kind    string           `json:"kind"` // "died", "build", "broken", "host"
	Message string           `json:"message"`
	Task    *procs.TaskError `json:"task,omitempty"`
}

func encodeError(host string, err error) []byte {
	w := wireError{Kind: "host", Message: err.Error()}
	var te *procs.TaskError
	switch {
	case errors.As(err, &te):
		w.Kind, w.Task = "died", te
		t := *te
		t.Worker = host + "/" + t.Worker
		w.Task = &t
	case errors.Is(err, ErrBuildMismatch):
		w.Kind = "build"
	case errors.Is(err, procs.ErrPoolBroken):
		w.Kind = "broken"
	}
	b, _ := json.Marshal(w) // plain strings, ints and bools: cannot fail
	return b
}

func decodeError(host string, body []byte) error {
	var w wireError
	if err := json.Unmarshal(body, &w); err != nil {
		return fmt.Errorf("%w: host %s: undecodable error result: %v", ErrHost, host, err)
	}
	switch w.Kind {
	case "died":
		if w.Task != nil {
			return w.Task
		}
	case "build":
		return fmt.Errorf("%w: host %s: %s", ErrBuildMismatch, host, w.Message)
	case "broken":
		return fmt.Errorf("%w: host %s: %w: %s", ErrHost, host, procs.ErrPoolBroken, w.Message)
	}
	return fmt.Errorf("%w: host %s: %s", ErrHost, host, w.Message)
}
