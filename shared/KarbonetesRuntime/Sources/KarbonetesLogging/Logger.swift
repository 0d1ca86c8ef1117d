public import Foundation

/// How much a log line matters. Ordered, so that a logger drops lines below its level.
public enum LogLevel: String, Sendable, CaseIterable, Comparable, Codable {
    case trace, debug, info, notice, warning, error, critical

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// One log line before it is rendered; sinks get these, so that tests can look at what was
/// logged without parsing text.
public struct LogRecord: Sendable {
    public var time: Date
    public var level: LogLevel
    public var label: String
    public var message: String
    /// Dotted keys (`job.namespace`, `request.uid`), so that log queries can name them.
    public var metadata: [String: String]

    public init(time: Date, level: LogLevel, label: String, message: String, metadata: [String: String]) {
        self.time = time
        self.level = level
        self.label = label
        self.message = message
        self.metadata = metadata
    }
}

/// Where records go. Libraries never choose a sink: they take a ``Logger`` from their caller.
public protocol LogSink: Sendable {
    func write(_ record: LogRecord)
}

/// A structured logger: a label, a level and metadata attached to every line.
///
/// A value type, cheap to copy; ``with(_:)`` makes a child that carries the object a piece of
/// work concerns, so every line of a reconcile names its Job.
public struct Logger: Sendable {
    public typealias Metadata = [String: String]

    public var label: String
    public var level: LogLevel
    public var metadata: Metadata
    public var sink: any LogSink

    public init(label: String, level: LogLevel = .info, metadata: Metadata = [:], sink: any LogSink = StandardErrorLogSink.shared) {
        self.label = label
        self.level = level
        self.metadata = metadata
        self.sink = sink
    }

    /// A logger that writes nothing: the default for code under test that does not look at logs.
    public static var disabled: Logger { Logger(label: "disabled", level: .critical, sink: DiscardingLogSink()) }

    /// A child logger whose lines all carry `extra` as well (later keys win).
    public func with(_ extra: Metadata) -> Logger {
        var child = self
        child.metadata.merge(extra) { _, new in new }
        return child
    }

    public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, metadata extra: @autoclosure () -> Metadata = [:]) {
        guard isEnabled(level) else { return }
        var merged = metadata
        merged.merge(extra()) { _, new in new }
        sink.write(LogRecord(time: Date(), level: level, label: label, message: message(), metadata: merged))
    }

    public func trace(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        log(.trace, message(), metadata: metadata())
    }

    public func debug(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        log(.debug, message(), metadata: metadata())
    }

    public func info(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        log(.info, message(), metadata: metadata())
    }

    public func notice(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        log(.notice, message(), metadata: metadata())
    }

    public func warning(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        log(.warning, message(), metadata: metadata())
    }

    public func error(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        log(.error, message(), metadata: metadata())
    }

    public func critical(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        log(.critical, message(), metadata: metadata())
    }
}

/// Drops every record.
public struct DiscardingLogSink: LogSink {
    public init() {}
    public func write(_ record: LogRecord) {}
}
