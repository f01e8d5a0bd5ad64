package minirocketmq

import "github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"

// SEND_MESSAGE_V2 (310): SEND_MESSAGE with SendMessageRequestHeaderV2, whose
// fields have one-letter names to save bytes; the default of Java clients
// (sendSmartMsg). The Go client never sends it. Everything said in
// 10_send_message.go applies; "n" (brokerName, 5.x) is ignored.

var sendKeysV2 = sendKeys{
	producerGroup: "a", topic: "b", defaultTopic: "c", defaultTopicQueueNums: "d",
	queueID: "e", sysFlag: "f", bornTimestamp: "g", flag: "h", properties: "i",
	reconsumeTimes: "j", unitMode: "k", maxReconsumeTimes: "l", batch: "m",
}

// handleSendMessageV2 stores one message sent with the short header (code
// 310).
func (b *Broker) handleSendMessageV2(c *conn, req *remoting.Command) (*remoting.Command, error) {
	sh, errResp := parseSendHeader(req, &sendKeysV2)
	if errResp != nil {
		return errResp, nil
	}
	return b.sendOne(c, req, sh), nil
}
