import Foundation
import KarbonetesLogging
import Synchronization
import Testing

@Suite("Logger")
struct LoggerTests {
    @Test(
        "a logger drops lines below its level and keeps the rest",
        arguments: LogLevel.allCases
    )
    func levelFiltering(_ threshold: LogLevel) {
        let sink = InMemoryLogSink()
        let logger = Logger(label: "test", level: threshold, sink: sink)
        logger.trace("trace")
        logger.debug("debug")
        logger.info("info")
        logger.notice("notice")
        logger.warning("warning")
        logger.error("error")
        logger.critical("critical")
        let want = LogLevel.allCases.filter { $0 >= threshold }
        #expect(sink.records.map(\.level) == want)
        #expect(sink.records.map(\.message) == want.map(\.rawValue))
    }

    @Test("a dropped line's message and metadata are never built")
    func droppedLinesAreNotBuilt() {
        let evaluations = Mutex(0)
        func expensive() -> String {
            evaluations.withLock { $0 += 1 }
            return "expensive"
        }
        let logger = Logger(label: "test", level: .warning, sink: InMemoryLogSink())
        logger.debug(expensive(), metadata: ["k": expensive()])
        #expect(evaluations.withLock { $0 } == 0)
        logger.error(expensive(), metadata: ["k": expensive()])
        #expect(evaluations.withLock { $0 } == 2)
    }

    struct MergeCase: Sendable, CustomTestStringConvertible {
        var base: [String: String]
        var child: [String: String]
        var line: [String: String]
        var want: [String: String]
        var testDescription: String { "\(base) + \(child) + \(line)" }
    }

    @Test(
        "metadata merges from the logger, its child and the line, later keys winning",
        arguments: [
            MergeCase(
                base: ["service": "webhook"],
                child: ["job.name": "a"],
                line: [:],
                want: ["service": "webhook", "job.name": "a"]
            ),
            MergeCase(base: ["job.name": "a"], child: ["job.name": "b"], line: [:], want: ["job.name": "b"]),
            MergeCase(
                base: [:],
                child: ["job.name": "b"],
                line: ["job.name": "c", "request.uid": "u"],
                want: ["job.name": "c", "request.uid": "u"]
            ),
        ]
    )
    func metadataMerge(_ testCase: MergeCase) {
        let sink = InMemoryLogSink()
        let logger = Logger(label: "test", metadata: testCase.base, sink: sink).with(testCase.child)
        logger.info("line", metadata: testCase.line)
        #expect(sink.records.first?.metadata == testCase.want)
        #expect(logger.metadata == testCase.base.merging(testCase.child) { _, new in new })
    }

    @Test("the disabled logger writes nothing below critical")
    func disabled() {
        #expect(!Logger.disabled.isEnabled(.error))
    }
}

@Suite("JSON line rendering")
struct JSONLineRendererTests {
    static let fixedTime = Date(timeIntervalSince1970: 1_796_256_000.25)

    @Test("a line is one JSON object: time, level, logger, message, then metadata keys sorted")
    func lineShape() throws {
        let record = LogRecord(
            time: Self.fixedTime,
            level: .warning,
            label: "karbonetes.controller",
            message: "holding job",
            metadata: ["job.namespace": "batch", "job.name": "nightly", "delay": "2h"]
        )
        let line = JSONLineRenderer.render(record)
        #expect(
            line
                == #"{"time":"2026-12-03T00:00:00.250Z","level":"warning","logger":"karbonetes.controller","message":"holding job","delay":"2h","job.name":"nightly","job.namespace":"batch"}"#
        )
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["job.name"] == "nightly")
    }

    struct EscapeCase: Sendable, CustomTestStringConvertible {
        var message: String
        var wantJSON: String
        var testDescription: String { wantJSON }
    }

    @Test(
        "messages and metadata are escaped so that every line stays valid JSON on one line",
        arguments: [
            EscapeCase(message: "say \"hi\"", wantJSON: #""say \"hi\"""#),
            EscapeCase(message: "back\\slash", wantJSON: #""back\\slash""#),
            EscapeCase(message: "two\nlines\r\n", wantJSON: #""two\nlines\r\n""#),
            EscapeCase(message: "tab\there", wantJSON: #""tab\there""#),
            EscapeCase(message: "bell\u{07}nul\u{00}", wantJSON: #""bell\u0007nul\u0000""#),
            EscapeCase(message: "grüße ✓ 🌱", wantJSON: #""grüße ✓ 🌱""#),
        ]
    )
    func escaping(_ testCase: EscapeCase) throws {
        let record = LogRecord(
            time: Self.fixedTime,
            level: .info,
            label: "l",
            message: testCase.message,
            metadata: ["k": testCase.message]
        )
        let line = JSONLineRenderer.render(record)
        #expect(line.contains(#""message":"# + testCase.wantJSON))
        #expect(line.hasSuffix(#""k":"# + testCase.wantJSON + "}"))
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == testCase.message)
        #expect(object["k"] == testCase.message)
    }

    @Test("the standard error sink writes one JSON line per record to file descriptor 2")
    func standardErrorSink() async throws {
        let result = try await #require(processExitsWith: .exitCode(0), observing: [\.standardErrorContent]) {
            let logger = Logger(label: "probe", level: .info, metadata: ["service": "signal"])
            logger.debug("hidden")
            logger.info("first", metadata: ["zone": "DE"])
            logger.error("second")
            exit(0)
        }
        let lines = String(decoding: result.standardErrorContent, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        let objects = try lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])
        }
        #expect(objects.map { $0["message"] } == ["first", "second"])
        #expect(objects.map { $0["level"] } == ["info", "error"])
        #expect(objects[0]["zone"] == "DE")
        #expect(objects.allSatisfy { $0["service"] == "signal" && $0["logger"] == "probe" })
    }
}
