/// TensorBoard's `Event` records, hand-encoded: the few fields SBNLab writes, with their numbers
/// from tensorboard/compat/proto (event.proto, summary.proto, tensor.proto, tensor_shape.proto,
/// types.proto) and tensorboard/plugins/hparams/plugin_data.proto. Hand-encoding keeps the build
/// free of protoc and of generated code for six message types, of which we use about fifteen
/// fields; `EventFileTests` holds the golden bytes that TensorBoard's own protobuf classes produce
/// for a scalar event, and the read-back tests parse our files with TensorBoard itself.
public enum EventEncoding {
    /// Event fields.
    enum Event {
        static let wallTime: UInt64 = 1, step: UInt64 = 2, fileVersion: UInt64 = 3, summary: UInt64 = 5, sessionLog: UInt64 = 7
    }
    /// Summary.Value fields (`value` is field 1 of Summary).
    enum Value { static let tag: UInt64 = 1, simpleValue: UInt64 = 2, tensor: UInt64 = 8, metadata: UInt64 = 9 }

    /// The first record of every file: "brain.Event:2", which also turns on TensorBoard's
    /// restart handling (a SessionLog START at step s supersedes earlier events at steps ≥ s).
    public static func fileVersion(wallTime: Double, into b: inout ProtoBuffer) {
        b.removeAll()
        b.double(Event.wallTime, wallTime)
        b.string(Event.fileVersion, "brain.Event:2")
    }

    /// A scalar summary (`simple_value`), as `tf.summary.scalar` v1 writes it. `tag` is UTF-8,
    /// prepared once by the caller so that this allocates nothing.
    public static func scalar(tag: [UInt8], value: Float, step: Int64, wallTime: Double, into b: inout ProtoBuffer) {
        summaryValue(step: step, wallTime: wallTime, into: &b) { v in
            v.bytes(Value.tag, tag)
            v.float(Value.simpleValue, value)
        }
    }

    /// An event at `step` whose summary holds one value, written by `value`.
    static func summaryValue(step: Int64, wallTime: Double, into b: inout ProtoBuffer, _ value: (inout ProtoBuffer) -> Void) {
        b.removeAll()
        b.double(Event.wallTime, wallTime)
        b.int(Event.step, step)
        b.message(Event.summary) { $0.message(1, value) }
    }

    /// A SessionLog START at `step`: TensorBoard drops the events of this run at steps ≥ `step`
    /// that earlier files hold (event_accumulator's restart purge), as after a resumed run.
    public static func sessionStart(step: Int64, wallTime: Double, into b: inout ProtoBuffer) {
        b.removeAll()
        b.double(Event.wallTime, wallTime)
        b.int(Event.step, step)
        b.message(Event.sessionLog) { $0.int(1, 1) }  // status = START
    }

    /// A text summary (the text plugin: a DT_STRING scalar tensor).
    public static func text(tag: String, _ text: String, step: Int64, wallTime: Double, into b: inout ProtoBuffer) {
        summary(tag: tag, plugin: "text", content: [], step: step, wallTime: wallTime, into: &b) { t in
            t.int(1, 7)  // dtype = DT_STRING
            t.message(2) { _ in }  // tensor_shape: a scalar
            t.string(8, text)  // string_val
        }
    }

    /// A value of the hparams plugin (`google.protobuf.Value`).
    public enum HParam: Equatable, Sendable {
        case number(Double), string(String), bool(Bool)
    }

    /// The hparams plugin's SessionStartInfo: this run's hyperparameters, so that the HParams
    /// dashboard lists it (it infers the experiment and metrics from the runs when, as here, no
    /// experiment summary is written).
    public static func hparamsSessionStart(
        _ hparams: [(name: String, value: HParam)], group: String, startTime: Double,
        wallTime: Double, into b: inout ProtoBuffer
    ) {
        var data = ProtoBuffer()
        data.message(3) { start in  // HParamsPluginData.session_start_info
            for (name, value) in hparams {
                start.message(1) { entry in  // map<string, Value> hparams
                    entry.string(1, name)
                    entry.message(2) { v in
                        switch value {
                        case .number(let x): v.double(2, x)
                        case .string(let s): v.string(3, s)
                        case .bool(let f): v.uint(4, f ? 1 : 0)
                        }
                    }
                }
            }
            start.string(4, group)
            start.double(5, startTime)
        }
        hparamsSummary(tag: "_hparams_/session_start_info", data.bytes, wallTime: wallTime, into: &b)
    }

    /// The hparams plugin's SessionEndInfo (status 1 success, 2 failure).
    public static func hparamsSessionEnd(success: Bool, endTime: Double, wallTime: Double, into b: inout ProtoBuffer) {
        var data = ProtoBuffer()
        data.message(4) { end in
            end.int(1, success ? 1 : 2)
            end.double(2, endTime)
        }
        hparamsSummary(tag: "_hparams_/session_end_info", data.bytes, wallTime: wallTime, into: &b)
    }

    /// An hparams summary: the plugin data in the metadata and a null float tensor, as
    /// tensorboard.plugins.hparams.summary writes it.
    static func hparamsSummary(tag: String, _ content: [UInt8], wallTime: Double, into b: inout ProtoBuffer) {
        summary(tag: tag, plugin: "hparams", content: content, step: 0, wallTime: wallTime, into: &b) { t in
            t.int(1, 1)  // DT_FLOAT
            t.message(2) { $0.message(2) { _ in } }  // shape [0]
        }
    }

    /// An event holding one summary value with plugin metadata and a tensor.
    static func summary(
        tag: String, plugin: String, content: [UInt8], step: Int64, wallTime: Double, into b: inout ProtoBuffer,
        tensor: (inout ProtoBuffer) -> Void
    ) {
        summaryValue(step: step, wallTime: wallTime, into: &b) { v in
            v.string(Value.tag, tag)
            v.message(Value.metadata) { m in
                m.message(1) { p in  // plugin_data
                    p.string(1, plugin)
                    if !content.isEmpty { p.bytes(2, content) }
                }
            }
            v.message(Value.tensor, tensor)
        }
    }
}
