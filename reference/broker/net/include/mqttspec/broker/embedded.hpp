#pragma once
// Starts the reference broker in-process: `mqttspec::broker::embedded_broker b; b.port();`
#include "mqttspec/broker/server.hpp"
