public import Foundation
public import KarbonetesModels

/// A watch stream decoded as it arrives: one ``WatchEvent`` per line, never buffering more
/// than the transport's line. Ends when the server ends the watch; throws when the connection
/// breaks or a line is not an event.
public struct KubeWatch<Object: Codable & Sendable>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<Object>

    let lines: any AsyncSequence<Data, any Error> & Sendable
    let object: String

    public init(lines: any AsyncSequence<Data, any Error> & Sendable, object: String) {
        self.lines = lines
        self.object = object
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var lines: any AsyncIteratorProtocol<Data, any Error>
        let object: String

        public mutating func next() async throws -> WatchEvent<Object>? {
            while let line = try await lines.next() {
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) { continue }
                do {
                    // The token tape, not JSONDecoder: an informer decodes every change it sees.
                    return try KubernetesJSON.decode(WatchEvent<Object>.self, from: line)
                } catch {
                    throw KubeClientError.malformedWatchEvent(object, line: line, error)
                }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(lines: lines.makeAsyncIterator(), object: object)
    }
}
