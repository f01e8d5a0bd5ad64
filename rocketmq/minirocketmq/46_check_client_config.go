package minirocketmq

import (
	"encoding/json"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/sql92"
)

// CHECK_CLIENT_CONFIG (46): the Java client asks it before it starts a
// consumer with a non-TAG subscription (the Go client never does).
//
// Honoured: body CheckClientRequestBody {clientId, group, subscriptionData
// {topic, subString, expressionType}}. TAG → SUCCESS; SQL92 → compiled:
// SUCCESS, or SUBSCRIPTION_PARSE_FAILED with the compile error as remark
// (the Java cause's class and message), or SYSTEM_ERROR when property
// filtering is off (WithPropertyFilter). An undecodable body → SYSTEM_ERROR.

type checkClientBody struct {
	ClientID         string `json:"clientId"`
	Group            string `json:"group"`
	SubscriptionData *struct {
		Topic          string `json:"topic"`
		SubString      string `json:"subString"`
		ExpressionType string `json:"expressionType"`
	} `json:"subscriptionData"`
}

// handleCheckClientConfig serves code 46.
func (b *Broker) handleCheckClientConfig(c *conn, req *remoting.Command) (*remoting.Command, error) {
	var body checkClientBody
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgHeartbeatDecode, err)), nil
	}
	sd := body.SubscriptionData
	if sd == nil || sd.ExpressionType == "" || sd.ExpressionType == ExpressionTag {
		return remoting.NewResponse(req, remoting.Success, ""), nil
	}
	if !b.cfg.propertyFilter {
		return remoting.NewResponse(req, remoting.SystemError, remarkf(msgFilterTypeUnsupported, sd.ExpressionType)), nil
	}
	if sd.ExpressionType != ExpressionSQL92 {
		return remoting.NewResponse(req, remoting.SubscriptionParseFailed, remarkf(msgFilterTypeUnsupported, sd.ExpressionType)), nil
	}
	if _, err := sql92.Compile(sd.SubString); err != nil {
		b.log.Logf(LogLevelInfo, "client %s@%s: SQL92 expression %q does not compile: %v", body.ClientID, body.Group, sd.SubString, err)
		return remoting.NewResponse(req, remoting.SubscriptionParseFailed, err.Error()), nil
	}
	return remoting.NewResponse(req, remoting.Success, ""), nil
}
