package import Foundation

/// Splits a byte stream into lines whatever the chunking: a line may span many pieces and a
/// piece may hold many lines. Holds at most `maxLineLength` bytes of an unfinished line.
package struct LineSplitter: Sendable {
    package let maxLineLength: Int
    private var partial: [UInt8] = []
    /// Set once a line over the cap was met: the lines before it were returned, and every later
    /// call throws, so that no complete line is lost and no long one is buffered.
    package private(set) var overflowed = false

    package init(maxLineLength: Int) { self.maxLineLength = maxLineLength }

    package struct LineTooLong: Error {}

    /// The complete lines in `piece` (with what came before), without their `\n` or `\r\n`, up
    /// to a line over the cap (see ``overflowed``).
    ///
    /// Newlines are found with `memchr` over the piece's bytes: a watch's every event passes
    /// through here, and walking a `Data` byte by byte through its indices was a sixth of a
    /// watching process's CPU (perf, bench-controller).
    package mutating func append(_ piece: Data) throws -> [Data] {
        if overflowed { throw LineTooLong() }
        return piece.withUnsafeBytes { bytes in splitLines(bytes) }
    }

    private mutating func splitLines(_ bytes: UnsafeRawBufferPointer) -> [Data] {
        var lines: [Data] = []
        guard let base = bytes.baseAddress else { return lines }
        var start = 0
        while start < bytes.count, let found = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start) {
            let newline = base.distance(to: UnsafeRawPointer(found))
            var line: Data
            if partial.isEmpty {
                line = Data(bytes: base + start, count: newline - start)
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<newline]))
                line = Data(partial)
                partial.removeAll(keepingCapacity: partial.count <= 64 * 1024)
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.count > maxLineLength {
                overflowed = true
                partial = []
                return lines
            }
            lines.append(line)
            start = newline + 1
        }
        if start < bytes.count {
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
            if partial.count > maxLineLength {
                overflowed = true
                partial = []
            }
        }
        return lines
    }

    /// The last line when the stream ended without a newline.
    package mutating func finish() -> Data? {
        guard !partial.isEmpty else { return nil }
        defer { partial = [] }
        var line = Data(partial)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }
}
