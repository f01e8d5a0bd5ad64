package nacostest

import (
	"encoding/json"
	"fmt"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/protobuf/types/known/anypb"
)

// Every Nacos 2.x gRPC message is a Payload: Metadata.Type names the Java class of the
// request or response ("ConfigQueryRequest"), Metadata.Headers carries the request headers
// (accessToken among them) and Body.Value holds the message as JSON. Body.TypeUrl is
// unused. The codes below are the server's (com.alibaba.nacos.api.exception.NacosException,
// ...remote.response.ResponseCode and ...config.remote.response.ConfigQueryResponse).
const (
	resultSuccess = 200 // ResponseCode.SUCCESS
	resultFail    = 500 // ResponseCode.FAIL

	codeInvalidServerStatus = 300 // NacosException.INVALID_SERVER_STATUS: server starting
	codeUnregistered        = 301 // NacosException.UN_REGISTER: no ConnectionSetupRequest seen
	codeNoHandler           = 302 // NacosException.NO_HANDLER
	codeInvalidParam        = 400 // NacosException.INVALID_PARAM
	codeNoRight             = 403 // NacosException.NO_RIGHT
	codeServerError         = 500 // NacosException.SERVER_ERROR
	codeBadGateway          = 502 // NacosException.BAD_GATEWAY: unparsable request
	codeConfigNotFound      = 300 // ConfigQueryResponse.CONFIG_NOT_FOUND
)

// Messages the real server sends with the codes above.
const (
	msgStarting       = "Server is starting,please try later."
	msgUnregistered   = "Connection is unregistered."
	msgNoHandler      = "RequestHandler Not Found"
	msgNotFound       = "config data not exist"
	msgCasFailed      = "Cas publish fail, server md5 may have changed."
	msgInvalidRequest = "Invalid request"
)

// response is the part every response body shares (com.alibaba.nacos.api.remote.response.Response).
// Handlers embed it in their response struct so encoding/json flattens it.
type response struct {
	ResultCode int    `json:"resultCode"`
	ErrorCode  int    `json:"errorCode"`
	Message    string `json:"message,omitempty"`
	RequestID  string `json:"requestId,omitempty"`
	Success    bool   `json:"success"`
}

// ok is a successful response header.
func ok() response { return response{ResultCode: resultSuccess, Success: true} }

// fail is a failed response header as Response.setErrorInfo builds it.
func fail(code int, msg string) response {
	return response{ResultCode: resultFail, ErrorCode: code, Message: msg}
}

// reply is what a request handler returns: the response type name and its body.
type reply struct {
	typ  string
	body any
}

// errorReply is an ErrorResponse, the answer to requests no handler accepted.
func errorReply(code int, msg string) reply {
	return reply{typ: "ErrorResponse", body: fail(code, msg)}
}

// request is a decoded Payload.
type request struct {
	typ      string
	headers  map[string]string
	clientIP string
	body     []byte
}

func parsePayload(p *pb.Payload) *request {
	r := &request{typ: p.GetMetadata().GetType(), headers: p.GetMetadata().GetHeaders(),
		clientIP: p.GetMetadata().GetClientIp()}
	if p.GetBody() != nil {
		r.body = p.GetBody().GetValue()
	}
	return r
}

// decode unmarshals the JSON body into v.
func (r *request) decode(v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("decode %s: %w", r.typ, err)
	}
	return nil
}

// encode builds the Payload of a message (a response, or a request the server pushes).
func encode(typ string, body any) (*pb.Payload, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return &pb.Payload{Metadata: &pb.Metadata{Type: typ}, Body: &anypb.Any{Value: data}}, nil
}
