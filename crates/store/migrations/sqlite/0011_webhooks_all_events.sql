-- Webhooks created for every event stored the list of the time; '*' also covers events added since.
UPDATE webhooks SET events = '*'
WHERE events = 'order.created,order.updated,refund.changed,connection.needs_reauth,sync.failed';
