/// A problem with an input or output file of data preparation; always names the file.
public struct DataError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let problem: String
    public init(file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem)" }
}
