// Package admin holds the RocketMQ administration a service needs around its clients,
// spoken over the remoting protocol to any RocketMQ 4.x/5.x name server and broker (the
// embedded one included):
//
//   - Probe: what the name servers know (brokers, topic routes) and whether every broker
//     address they hand out can be dialled from here (readiness, `app doctor`);
//   - EnsureTopics / DeleteTopics: create missing topics on every master broker (what
//     `mqadmin updateTopic -c` does) and wait for their routes; delete them again;
//   - ConsumerLag: broker and committed consumer offsets of every queue of a group.
//
// Every function takes the name server addresses, a context that bounds it, and the
// options of the connection: WithTLS dials TLS (and completes the handshake when it
// checks a broker), WithCredentials signs every request as RocketMQ's ACL requires.
// Give them what the service's clients use, or a secured cluster refuses the calls.
package admin
