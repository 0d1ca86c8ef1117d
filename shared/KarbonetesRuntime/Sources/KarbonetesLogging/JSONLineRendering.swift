import Foundation
import Synchronization

/// Renders a record as one JSON object on one line: `time`, `level`, `logger`, `message`, then
/// the metadata keys in sorted order. Written by hand (not `JSONEncoder`) because it runs for
/// every line and its output must be stable for log pipelines and tests.
public enum JSONLineRenderer {
    public static func render(_ record: LogRecord) -> String {
        var out = "{\"time\":\""
        out += timestamp(record.time)
        out += "\",\"level\":\""
        out += record.level.rawValue
        out += "\",\"logger\":"
        appendQuoted(record.label, to: &out)
        out += ",\"message\":"
        appendQuoted(record.message, to: &out)
        for key in record.metadata.keys.sorted() {
            out += ","
            appendQuoted(key, to: &out)
            out += ":"
            appendQuoted(record.metadata[key]!, to: &out)
        }
        out += "}"
        return out
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static func appendQuoted(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                out += "\\u"
                let hex = String(s.value, radix: 16)
                out += String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// Writes JSON lines to standard error, one `write(2)` a line so that lines from several
/// threads never interleave.
public final class StandardErrorLogSink: LogSink {
    public static let shared = StandardErrorLogSink()

    private let lock = Mutex(())

    public init() {}

    public func write(_ record: LogRecord) {
        let line = JSONLineRenderer.render(record) + "\n"
        lock.withLock { _ in
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0, errno == EINTR { continue }
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }
}

/// Keeps records in memory, for tests that assert on what was logged.
public final class InMemoryLogSink: LogSink {
    private let storage = Mutex<[LogRecord]>([])

    public init() {}

    public func write(_ record: LogRecord) {
        storage.withLock { $0.append(record) }
    }

    public var records: [LogRecord] { storage.withLock { $0 } }
}
