'use strict'
// aedes with its default options on 127.0.0.1:PORT (node server.js PORT). Prints "listening PORT"
// once the socket accepts connections; SIGTERM or SIGINT closes it. Port 0 picks a free one.
const net = require('net')
const createBroker = require('aedes')

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node server.js PORT')
  process.exit(2)
}

const broker = createBroker()
// A client that breaks the protocol is the point of the tests: aedes drops it, the broker lives on.
broker.on('clientError', () => {})
broker.on('connectionError', () => {})

const server = net.createServer(broker.handle)
server.on('error', (err) => {
  console.error(`aedes: ${err.message}`)
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`)
})

function stop () {
  server.close()
  broker.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
