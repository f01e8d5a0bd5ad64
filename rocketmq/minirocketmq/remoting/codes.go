package remoting

// Request codes of the RocketMQ 4.x remoting protocol
// (org.apache.rocketmq.common.protocol.RequestCode). Only the codes this
// module speaks or refers to are listed; the names follow the Java constants.
const (
	SendMessage                      int16 = 10
	PullMessage                      int16 = 11
	QueryMessage                     int16 = 12
	QueryConsumerOffset              int16 = 14
	UpdateConsumerOffset             int16 = 15
	UpdateAndCreateTopic             int16 = 17
	GetAllTopicConfig                int16 = 21
	UpdateBrokerConfig               int16 = 25
	GetBrokerConfig                  int16 = 26
	GetBrokerRuntimeInfo             int16 = 28
	SearchOffsetByTimestamp          int16 = 29
	GetMaxOffset                     int16 = 30
	GetMinOffset                     int16 = 31
	GetEarliestMsgStoretime          int16 = 32
	ViewMessageByID                  int16 = 33
	HeartBeat                        int16 = 34
	UnregisterClient                 int16 = 35
	ConsumerSendMsgBack              int16 = 36
	EndTransaction                   int16 = 37
	GetConsumerListByGroup           int16 = 38
	CheckTransactionState            int16 = 39
	NotifyConsumerIDsChanged         int16 = 40
	LockBatchMQ                      int16 = 41
	UnlockBatchMQ                    int16 = 42
	GetAllConsumerOffset             int16 = 43
	GetAllDelayOffset                int16 = 45
	CheckClientConfig                int16 = 46
	GetKVConfig                      int16 = 101
	GetRouteInfoByTopic              int16 = 105
	GetBrokerClusterInfo             int16 = 106
	UpdateAndCreateSubscriptionGroup int16 = 200
	GetConsumeStats                  int16 = 208
	GetAllSubscriptionGroupConfig    int16 = 201
	GetTopicStatsInfo                int16 = 202
	GetConsumerConnectionList        int16 = 203
	GetProducerConnectionList        int16 = 204
	GetAllTopicListFromNameServer    int16 = 206
	DeleteSubscriptionGroup          int16 = 207
	DeleteTopicInBroker              int16 = 215
	DeleteTopicInNameSrv             int16 = 216
	ResetConsumerClientOffset        int16 = 220
	GetConsumerStatusFromClient      int16 = 221
	InvokeBrokerToResetOffset        int16 = 222
	GetTopicsByCluster               int16 = 224
	QueryTopicConsumeByWho           int16 = 300
	GetSystemTopicListFromNS         int16 = 304
	GetConsumerRunningInfo           int16 = 307
	ConsumeMessageDirectly           int16 = 309
	SendMessageV2                    int16 = 310
	ViewBrokerStatsData              int16 = 315
	GetBrokerConsumeStats            int16 = 317
	GetNamesrvConfig                 int16 = 319
	SendBatchMessage                 int16 = 320
	QueryConsumeQueue                int16 = 321
	SendReplyMessage                 int16 = 324
	SendReplyMessageV2               int16 = 325
	PushReplyMessageToClient         int16 = 326
)

// Response codes (org.apache.rocketmq.common.protocol.ResponseCode and
// RemotingSysResponseCode).
const (
	Success                   int16 = 0
	SystemError               int16 = 1
	SystemBusy                int16 = 2
	RequestCodeNotSupported   int16 = 3
	TransactionFailed         int16 = 4
	FlushDiskTimeout          int16 = 10
	SlaveNotAvailable         int16 = 11
	FlushSlaveTimeout         int16 = 12
	MessageIllegal            int16 = 13
	ServiceNotAvailable       int16 = 14
	VersionNotSupported       int16 = 15
	NoPermission              int16 = 16
	TopicNotExist             int16 = 17
	TopicExistAlready         int16 = 18
	PullNotFound              int16 = 19
	PullRetryImmediately      int16 = 20
	PullOffsetMoved           int16 = 21
	QueryNotFound             int16 = 22
	SubscriptionParseFailed   int16 = 23
	SubscriptionNotExist      int16 = 24
	SubscriptionNotLatest     int16 = 25
	SubscriptionGroupNotExist int16 = 26
	FilterDataNotExist        int16 = 27
	FilterDataNotLatest       int16 = 28
	TransactionShouldCommit   int16 = 200
	TransactionShouldRollback int16 = 201
	TransactionStateUnknown   int16 = 202
	ConsumerNotOnline         int16 = 206
	ConsumeMsgTimeout         int16 = 207
	NoMessage                 int16 = 208
)

// Flag bits of a command.
const (
	// FlagResponse marks a response (RemotingCommand RPC_TYPE bit).
	FlagResponse int32 = 1 << 0
	// FlagOneway marks a request that expects no response. The Go client
	// never sets it, even for its "oneway" calls.
	FlagOneway int32 = 1 << 1
)

// Serialize types carried in the high byte of the header-length word.
const (
	SerializeJSON     byte = 0
	SerializeRocketMQ byte = 1
)
